// A short TypeScript client of Hoist on the types openapi-typescript generated from the
// served spec (`hoist.d.ts`, written by tests/sdk/run) and openapi-fetch. `tsc --noEmit`
// type-checks it; the type assertions below fail the check when the spec stops saying
// what clients rely on. Run with HOIST_URL and HOIST_TOKEN set, it also uploads, pages to
// the end by cursor, deletes and reads a typed error against a real server.

import createClient from "openapi-fetch";
import type { components, operations, paths } from "./hoist";

export type ErrorCode = components["schemas"]["ErrorBody"]["code"];
export type StoredObject = components["schemas"]["StoredObject"];
export type ListedFile = components["schemas"]["ListedFile"];
export type Level = components["schemas"]["TriggerInfo"]["auth"];

type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

// What the spec must keep saying, checked at compile time.
export const specFacts: {
  errorCodesAreClosed: string extends ErrorCode ? false : true;
  levelsAreClosed: Equals<Level, "public" | "user" | "supreme">;
  cursorIsAbsentNotNull: Equals<components["schemas"]["FilePage"]["cursor"], string | undefined>;
  fileKeysAreRequired: Equals<operations["deleteFiles"]["parameters"]["query"]["fileKeys"], string>;
} = {
  errorCodesAreClosed: true,
  levelsAreClosed: true,
  cursorIsAbsentNotNull: true,
  fileKeysAreRequired: true,
};

export type Hoist = ReturnType<typeof hoist>;

export function hoist(baseUrl: string, token?: string) {
  return createClient<paths>({
    baseUrl,
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
}

/** What a refusal tells a person; exhaustive over the codes this client handles. */
export function explain(code: ErrorCode): string {
  switch (code) {
    case "unknown-bucket":
      return "no such bucket alias";
    case "invalid-key":
      return "that key is not allowed";
    case "file-too-large":
      return "the file is too large";
    case "unauthorized":
    case "invalid-token":
    case "token-expired":
      return "sign in again";
    case "forbidden":
      return "not allowed for this account";
    default:
      return `refused: ${code}`;
  }
}

/** Raw upload: the body is the file's bytes, its type the object's type. */
export async function putObject(
  client: Hoist,
  key: string,
  bytes: Uint8Array,
  contentType: string,
): Promise<StoredObject> {
  const { data, error } = await client.PUT("/files/object", {
    params: { query: { key, contentType } },
    // The spec types a binary body as a string; fetch takes the bytes as they are.
    body: bytes as unknown as string,
    bodySerializer: (body) => body,
    headers: { "Content-Type": contentType },
  });
  if (error) throw new Error(`${error.error.code}: ${explain(error.error.code)}`);
  return data.data;
}

/** Multipart upload: the destination in the query string, so the file streams. */
export async function uploadForm(
  client: Hoist,
  prefix: string,
  file: Blob,
  fileName: string,
): Promise<StoredObject> {
  const { data, error } = await client.POST("/files", {
    params: { query: { prefix } },
    // The spec types the form's binary field as a string; fetch sends the FormData.
    body: { file: "" },
    bodySerializer: () => {
      const form = new FormData();
      form.append("file", file, fileName);
      return form;
    },
  });
  if (error) throw new Error(`${error.error.code}: ${explain(error.error.code)}`);
  return data.data;
}

/** Every object under `prefix`, newest first, a page at a time by cursor. */
export async function listAll(client: Hoist, prefix: string, limit = 2): Promise<ListedFile[]> {
  const all: ListedFile[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const { data, error } = await client.GET("/files/list/data", {
      params: { query: { prefix, limit, cursor } },
    });
    if (error) throw new Error(`${error.error.code}: ${error.error.message}`);
    all.push(...data.data.items);
    cursor = data.data.cursor;
    if (cursor === undefined) return all;
  }
  throw new Error("paging did not end");
}

export async function remove(client: Hoist, keys: string[]): Promise<string[]> {
  const { data, error } = await client.DELETE("/files", {
    params: { query: { fileKeys: keys.join(",") } },
  });
  if (error) throw new Error(`${error.error.code}: ${error.error.message}`);
  return data.data.deleted;
}

async function main(url: string, token: string): Promise<void> {
  const client = hoist(url, token);
  const prefix = `ts/${Date.now().toString(36)}`;
  const text = new TextEncoder();
  const stored = await putObject(client, `${prefix}/a.csv`, text.encode("a,b\n1,2\n"), "text/csv");
  if (stored.contentType !== "text/csv") throw new Error(`type lost: ${stored.contentType}`);
  const form = await uploadForm(client, prefix, new Blob(["hello"], { type: "text/plain" }), "b.txt");
  if (form.key !== `${prefix}/b.txt` || form.contentType !== "text/plain") {
    throw new Error(`form upload: ${JSON.stringify(form)}`);
  }
  await putObject(client, `${prefix}/c.txt`, text.encode("c"), "text/plain");
  const listed = await listAll(client, prefix);
  if (listed.length !== 3) throw new Error(`listed ${listed.length} of 3`);
  const deleted = await remove(client, listed.map((file) => file.key));
  if (deleted.length !== 3) throw new Error(`deleted ${deleted.length} of 3`);
  const { error } = await client.GET("/files/list", { params: { query: { bucketName: "nope" } } });
  if (error?.error.code !== "unknown-bucket") throw new Error(`expected unknown-bucket: ${JSON.stringify(error)}`);
  console.log("typescript client: 5 operations against a real server passed");
}

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env;
if (env?.HOIST_URL && env.HOIST_TOKEN) {
  main(env.HOIST_URL, env.HOIST_TOKEN).catch((error: unknown) => {
    console.error(error);
    (globalThis as { process?: { exitCode?: number } }).process!.exitCode = 1;
  });
}
