import path from "node:path";

/**
 * Where the branch mover pushes and fetches, and what each git call that
 * talks to it needs. The URL never carries a credential: git prints remote
 * URLs in errors and progress, and a URL given on the command line is in
 * every process listing.
 */
export interface GitRemote {
  /** A path (the local forge) or an http(s) URL (GitHub). */
  readonly url: string;
  /** How messages name it: "the local forge's remote /srv/p.git", "GitHub (octo/widgets)". */
  readonly description: string;
  /** The variables for one git process that talks to the remote, and the secrets among them (scrubbed from anything reported). */
  access(): Promise<RemoteAccess>;
}

export interface RemoteAccess {
  readonly env: Readonly<Record<string, string>>;
  readonly secrets: readonly string[];
}

/** The local forge's remote: a bare repository on disk (`forge.remote`, relative to the project). */
export function localRemote(projectDir: string, remote: string): GitRemote {
  const dir = path.resolve(projectDir, remote);
  return {
    url: dir,
    description: `the local forge's remote ${dir}`,
    access: () => Promise.resolve({ env: {}, secrets: [] }),
  };
}
