import { remoteGitContract } from "./remote-git-contract.ts";
import { localWorld } from "./remote-git-worlds.ts";

remoteGitContract("local forge (bare repository)", localWorld);
