import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Built to dist/, which `postout serve` serves at / to a signed-in browser. Assets are
// named by content under /assets/, and nothing is inlined into index.html, so the page runs
// under the gateway's Content-Security-Policy (script-src 'self').
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
