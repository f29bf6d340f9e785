export type { MemoryConfig } from './types';
