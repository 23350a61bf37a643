import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { serveStatic } from "@hono/node-server/serve-static";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { secureHeaders } from "hono/secure-headers";
import { authorized, keyMatches } from "./auth.ts";
import { issueSession, SESSION_COOKIE, SESSION_MAX_AGE_S } from "./session.ts";

/** Where `npm run build -w @postout/dashboard` writes the dashboard, if it is installed. */
export function builtDashboardDir(): string | undefined {
  try {
    const pkg = fileURLToPath(import.meta.resolve("@postout/dashboard/package.json"));
    return join(dirname(pkg), "dist");
  } catch {
    return undefined;
  }
}

const LOGIN_MESSAGES = {
  none: "",
  wrong: "That is not the API key.",
  out: "You are signed out.",
} as const;

/** The sign-in page: fixed text only, nothing from the request is written into it. */
function loginPage(message: keyof typeof LOGIN_MESSAGES): string {
  const note = LOGIN_MESSAGES[message];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Postout — sign in</title><link rel="icon" href="data:,">
<style>
body{font:15px/1.5 system-ui,sans-serif;background:#f5f6f8;color:#1d2330;display:grid;place-items:center;min-height:100vh;margin:0}
form{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;width:min(24rem,90vw)}
h1{font-size:1.3rem;margin:0 0 1rem}label{display:block;margin-bottom:.3rem}
input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid #b8bfcc;border-radius:4px}
button{margin-top:1rem;padding:.5rem 1rem;font:inherit;background:#2155c4;color:#fff;border:0;border-radius:4px;cursor:pointer}
p.note{color:#a3271c}p.hint{color:#5b6475;font-size:.85rem}
</style></head>
<body><form method="post" action="/login">
<h1>Postout</h1>
${note ? `<p class="note" role="alert">${note}</p>` : ""}
<label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
<p class="hint">The key <code>postout serve</code> printed at its first start, kept in the file <code>api-key</code> next to the database, or <code>POSTOUT_API_KEY</code>.</p>
</form></body></html>
`;
}

const NOT_BUILT =
  "The dashboard is not built. Run `npm run build -w @postout/dashboard` (npm start does it), then reload.\n";

/**
 * The dashboard: `/login` takes the API key once and sets an HttpOnly, SameSite=Strict session
 * cookie (the key itself never reaches the page's scripts); `/` and `/assets/*` are served from
 * the built files only to a signed-in browser, with a strict Content-Security-Policy.
 */
export function dashboardRoutes(
  app: OpenAPIHono,
  options: {
    readonly apiKey: string;
    readonly now: () => number;
    readonly dir: string | undefined;
  },
): void {
  const dir = options.dir;
  const built = dir !== undefined && existsSync(join(dir, "index.html"));
  const headers = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      objectSrc: ["'none'"],
    },
    referrerPolicy: "no-referrer",
  });
  for (const path of ["/", "/login", "/logout", "/assets/*"]) app.use(path, headers);

  app.get("/login", (c) => c.html(loginPage(c.req.query("signed-out") === "" ? "out" : "none")));
  app.post("/login", async (c) => {
    const form = await c.req.parseBody();
    const key = typeof form.key === "string" ? form.key.trim() : undefined;
    if (!keyMatches(key, options.apiKey)) return c.html(loginPage("wrong"), 401);
    setCookie(c, SESSION_COOKIE, issueSession(options.apiKey, options.now()), {
      maxAge: SESSION_MAX_AGE_S,
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      // Secure would stop the cookie over plain http://127.0.0.1; set it when served over TLS.
      secure: new URL(c.req.url).protocol === "https:",
    });
    return c.redirect("/", 303);
  });
  app.post("/logout", (c) => {
    // Another site's form could post here and end the session (SameSite keeps the cookie
    // from being sent, not the answer's Set-Cookie from being taken): browsers say where a
    // request comes from in Sec-Fetch-Site; a client that sends none is not a browser.
    const site = c.req.header("sec-fetch-site");
    if (site !== undefined && site !== "same-origin" && site !== "none")
      return c.text("sign out from the dashboard itself\n", 403);
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.redirect("/login?signed-out", 303);
  });

  const signedIn = (c: Context) => authorized(c, options.apiKey, options.now);
  const files = built ? serveStatic({ root: dir }) : undefined;
  app.get("/", async (c, next) => {
    if (!signedIn(c)) return c.redirect("/login", 303);
    if (!files) return c.text(NOT_BUILT, 503);
    c.header("Cache-Control", "no-store");
    return files(c, next);
  });
  app.get("/assets/*", async (c, next) => {
    if (!signedIn(c)) return c.text("sign in first: /login\n", 401);
    if (!files) return c.text(NOT_BUILT, 503);
    // Vite names assets by their content: they never change under the same name.
    c.header("Cache-Control", "private, max-age=31536000, immutable");
    return files(c, next);
  });
}
