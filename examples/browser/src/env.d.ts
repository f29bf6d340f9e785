/// <reference types="vite/client" />

// Provided by build/mann_assets.ts; typed where it is imported (src/data.ts).
declare module 'virtual:mann-assets' {
  export const assets: unknown;
}
