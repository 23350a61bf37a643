/**
 * Where an instance's REST and identity endpoints are, from the base URL a user wrote.
 * Marketo's are `https://<munchkin>.mktorest.com/rest` and `…/identity`; behind a gateway
 * or in the sandbox an instance may live under a path, so both keep the base URL's path.
 */

/** The REST base: origin and path, without a trailing `/` or `/rest`; query and fragment dropped. */
export function restBase(base: URL): string {
  return `${base.origin}${base.pathname.replace(/\/+$/, "").replace(/\/rest$/, "")}`;
}

/**
 * The identity base the client secret is sent to: the REST base + `/identity`. It is on the
 * base URL's origin whatever the path says (`//other-host/…` stays a path on this origin);
 * were it ever not, this throws rather than send the secret elsewhere.
 */
export function defaultIdentityUrl(base: URL): string {
  const identity = `${restBase(base)}/identity`;
  if (new URL(identity).origin !== base.origin) {
    throw new TypeError("baseUrl: its identity endpoint would leave the base URL's origin");
  }
  return identity;
}
