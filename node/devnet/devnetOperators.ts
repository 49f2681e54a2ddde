/** The operators a devnet admits by default: two national super-apps and a small regional wallet. */
export interface DevnetOperatorSeed {
  code: string;
  name: string;
  /** Settlement tokens the issuer mints to it at start, in fen. */
  reserve: bigint;
}

export const DEFAULT_DEVNET_OPERATORS: DevnetOperatorSeed[] = [
  { code: "ALIPAY", name: "Alipay", reserve: 50_000_000_00n },
  { code: "WECHAT", name: "WeChat Pay", reserve: 50_000_000_00n },
  { code: "YUNPAY", name: "Yunnan Pay (regional)", reserve: 5_000_000_00n },
];
