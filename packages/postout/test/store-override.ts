import type { Store } from "../src/store/store.ts";

/**
 * The store with some of its methods replaced (to slow, fail, count or hold one); every other
 * method answers as the store does. A replacement calls the real method on `store` itself.
 */
export function withMethods<S extends Store>(store: S, methods: Partial<Store>): S {
  return new Proxy(store, {
    get(target, key, receiver) {
      const replaced = (methods as Record<PropertyKey, unknown>)[key];
      if (replaced !== undefined) return replaced;
      const value = Reflect.get(target, key, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
