import { chmod, lstat } from "node:fs/promises";
import type { Server } from "node:net";

/**
 * Listens on a Unix socket created with `mode` (the umask covers the bind,
 * which happens synchronously inside listen()); where the umask cannot be set
 * (worker threads) the mode is stated afterwards on the socket itself,
 * never following a link.
 */
export function listenWithMode(server: Server, socketPath: string, mode: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    let previous: number | null = null;
    try {
      previous = process.umask(0o777 & ~mode);
    } catch {
      previous = null;
    }
    try {
      server.listen(socketPath, () => {
        server.off("error", reject);
        if (previous !== null) {
          resolve();
          return;
        }
        lstat(socketPath)
          .then(async (bound) => {
            if (bound.isSocket()) await chmod(socketPath, mode);
          })
          .then(resolve, reject);
      });
    } finally {
      if (previous !== null) process.umask(previous);
    }
  });
}
