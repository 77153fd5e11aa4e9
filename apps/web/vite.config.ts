/**
 * Vite build of the web app. JSX goes through Vite's own transformer (automatic runtime),
 * workspace packages build from source (`@vaultex/source`), output names are content
 * hashes only (no timestamps), and every built script and style tag gets an SRI hash.
 */
import { defineConfig } from 'vite';
import { subresourceIntegrity } from './build/sri-plugin.js';

export default defineConfig(({ command }) => ({
  root: import.meta.dirname,
  // A build is always the production React, even when NODE_ENV says otherwise (vitest sets 'test').
  define: command === 'build' ? { 'process.env.NODE_ENV': JSON.stringify('production') } : {},
  base: '/',
  publicDir: 'public',
  resolve: { conditions: ['@vaultex/source'] },
  oxc: { jsx: { runtime: 'automatic', development: command !== 'build' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // The CSP forbids inline script: keep the module preload polyfill out of index.html.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    // One chunk holds the crypto (noble, ML-KEM, Argon2id): about 200 KB gzipped.
    chunkSizeWarningLimit: 700,
    rollupOptions: {
      output: {
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
  // `npm run dev`: the page's origin is the dev server, so the relay's API and socket are proxied
  // to a relay on :8080 (`npm start`), VAULTEX_DEV_RELAY to use another.
  server: {
    proxy: {
      '/api': process.env.VAULTEX_DEV_RELAY ?? 'http://localhost:8080',
      '/ws': { target: process.env.VAULTEX_DEV_RELAY ?? 'http://localhost:8080', ws: true },
    },
  },
  plugins: [subresourceIntegrity()],
}));
