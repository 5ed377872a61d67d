import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * Content-Security-Policy of the built app: scripts only from our origin, no eval, no inline
 * script. connect-src allows https: because a user may point the app at their own CIFAR-10
 * mirror; the app itself requests nothing from other origins (e2e asserts it). style-src keeps
 * 'unsafe-inline' for style attributes (React and recharts set them). The dev server injects
 * inline scripts for hot reload, so the policy is added to the production build only.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "worker-src 'self'",
  "connect-src 'self' https:",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

function contentSecurityPolicy(): Plugin {
  return {
    name: 'dpm-csp',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' }],
  };
}

export default defineConfig({
  // Relative asset and worker URLs: the build works from any sub-path of a static host
  // (GitHub Pages' /<repo>/, a folder on a university server) with no rebuild (docs/deploy.md).
  base: './',
  plugins: [react(), contentSecurityPolicy()],
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
  preview: { port: 4173, strictPort: true },
});
