// CSV reports are streamed by the API to a bearer-authenticated request, so a plain
// link cannot fetch them: fetch with the token, then save the body as a file.
import { type Query, client } from "./api";

export async function download(path: string, query: Query, fallbackName: string): Promise<string> {
  const response = await client.send("GET", path, { query });
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? fallbackName;
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has the file once the click is handled; free the memory soon after.
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  return name;
}
