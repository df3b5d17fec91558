import { render } from "preact";
import { App } from "./app";
import "./styles.css";

// The dashboard's first render is measured from here and from the navigation start
// (docs/admin.md, "Performance"); the browser tests read these marks.
performance.mark("storefront:app-start");

const root = document.getElementById("app");
if (root) render(<App />, root);
