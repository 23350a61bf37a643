import { execFileSync } from "node:child_process";
import { type Browser, chromium } from "playwright-core";

/** The system's Chromium on PATH (Debian's `chromium` package), if there is one. */
function systemChromium(): string | undefined {
  try {
    return (
      execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/**
 * The browser the tests drive: CHROMIUM_PATH, else the system's Chromium, else the Chromium build
 * that the @sparticuz/chromium dev dependency ships (npm installs it; its first use unpacks it
 * into the temporary folder), so `npm ci && npm test` needs no browser installed by hand.
 */
export async function chromiumPath(): Promise<string> {
  const chosen = process.env.CHROMIUM_PATH || systemChromium();
  if (chosen) return chosen;
  const { default: shipped } = await import("@sparticuz/chromium");
  return shipped.executablePath();
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: await chromiumPath(),
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
}
