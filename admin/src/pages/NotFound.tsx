import { href, onLinkClick } from "../router";

export function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is no such page in the console. <a href={href("/")} onClick={onLinkClick}>Go to the dashboard</a>.
      </p>
    </>
  );
}
