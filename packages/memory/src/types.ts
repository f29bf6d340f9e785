/** The size of an external memory: `slots` rows (N) of `width` numbers (W). */
export interface MemoryConfig {
  /** Number of memory slots N (paper: 128). */
  slots: number;
  /** Width W of each slot (paper: 40). */
  width: number;
  /** Value every cell starts at (paper peers: 1e-6; a small non-zero value keeps cosine similarity defined). */
  initialValue?: number;
}
