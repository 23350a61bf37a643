import { useEffect, useState } from "react";

/** Where the dashboard is: the page and its parameters, kept in the URL's hash so links can be shared. */
export interface Place {
  readonly page: "log" | "lead" | "errors" | "destinations" | "test";
  readonly id?: number;
  readonly params: URLSearchParams;
}

export function parsePlace(hash: string): Place {
  const [path = "", search = ""] = hash.replace(/^#/, "").split("?", 2);
  const params = new URLSearchParams(search);
  const lead = /^\/leads\/(\d+)$/.exec(path);
  if (lead) return { page: "lead", id: Number(lead[1]), params };
  if (path === "/errors") return { page: "errors", params };
  if (path === "/destinations") return { page: "destinations", params };
  if (path === "/test") return { page: "test", params };
  return { page: "log", params };
}

/** The current place, updated on every hash change. */
export function usePlace(): Place {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return parsePlace(hash);
}

export function go(hash: string): void {
  window.location.hash = hash;
}
