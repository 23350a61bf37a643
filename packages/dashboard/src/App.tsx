import { StoreFault } from "./components/StoreFault.tsx";
import { usePlace } from "./hash-route.ts";
import { DestinationsPage } from "./pages/DestinationsPage.tsx";
import { ErrorsPage } from "./pages/ErrorsPage.tsx";
import { LeadPage } from "./pages/LeadPage.tsx";
import { LogPage } from "./pages/LogPage.tsx";
import { TestPage } from "./pages/TestPage.tsx";

const NAV = [
  { hash: "#/", page: "log", label: "Post-out log" },
  { hash: "#/errors", page: "errors", label: "Errors by code" },
  { hash: "#/destinations", page: "destinations", label: "Destinations" },
  { hash: "#/test", page: "test", label: "Test integration" },
] as const;

export function App() {
  const place = usePlace();
  return (
    <>
      <header className="top">
        <strong className="brand">Postout</strong>
        <nav aria-label="pages">
          {NAV.map((n) => (
            <a
              key={n.page}
              href={n.hash}
              aria-current={
                place.page === n.page || (n.page === "log" && place.page === "lead")
                  ? "page"
                  : undefined
              }
            >
              {n.label}
            </a>
          ))}
        </nav>
        <form method="post" action="/logout">
          <button type="submit">Sign out</button>
        </form>
      </header>
      <StoreFault />
      <main>
        {place.page === "lead" && place.id !== undefined ? (
          <LeadPage key={place.id} id={place.id} />
        ) : place.page === "errors" ? (
          <ErrorsPage />
        ) : place.page === "destinations" ? (
          <DestinationsPage />
        ) : place.page === "test" ? (
          <TestPage />
        ) : (
          // Keyed by the filter and page: a selection (and a notice) belongs to the rows it was
          // made on, however the URL changes (a link, Back, the nav).
          <LogPage key={place.params.toString()} params={place.params} />
        )}
      </main>
    </>
  );
}
