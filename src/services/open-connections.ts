/**
 * Connections a command opened that would keep the process alive after it
 * (an SSH connection to a remote host's engine): each project's ports put
 * their closing here when they open a host, and the CLI closes everything
 * here once a command ends, whatever service opened it and however it ended.
 * A module of its own with no imports: every command's action loads it.
 */
const open = new Set<() => Promise<void>>();

/** Registers `close` to run when the command ends; the returned function takes it back (the ports closed themselves). */
export function closeWhenCommandEnds(close: () => Promise<void>): () => void {
  open.add(close);
  return () => {
    open.delete(close);
  };
}

/** Closes everything registered, each on its own (one that fails does not keep the others open). */
export async function closeOpenConnections(): Promise<void> {
  const closers = [...open];
  open.clear();
  await Promise.allSettled(closers.map((close) => close()));
}
