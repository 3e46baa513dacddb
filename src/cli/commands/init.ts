import type { Command } from "commander";
import { action, examples } from "./action.ts";

interface InitFlags {
  readonly name?: string;
  readonly github?: string;
  readonly localForge?: boolean;
  readonly remote?: string;
}

export function registerInit(program: Command): void {
  program
    .command("init")
    .summary("write a commented .cspace.json and an example issue in .cspace/issues/")
    .description(
      "Set up cspace in the current directory (or --cwd): a commented .cspace.json holding every section with its " +
        "defaults, and .cspace/issues/1.md, an example issue. With --local-forge, also the local forge's remote: a bare " +
        "clone of the project's git repository, named in forge.remote. Nothing that exists is ever overwritten.",
    )
    .option("--name <project>", "the project's name, used in container names (default: the directory's name)")
    .option("--github <owner/name>", "take issues and pull requests from this GitHub repository instead of local files")
    .option("--local-forge", "also create the local forge's remote: a bare clone of this git repository, beside it as <name>.git")
    .option("--remote <path>", "with --local-forge: where the bare repository goes instead")
    .addHelpText(
      "after",
      examples("cspace init", "cspace init --local-forge", "cspace init --local-forge --remote ~/forges/shop.git", "cspace init --name shop --github acme/shop", "cspace init --cwd ../other-project --json"),
    )
    .action(
      action(async (ctx, flags: InitFlags) => {
        const { initProject } = await import("../../services/init.ts");
        const result = await initProject({
          cwd: ctx.globals.cwd,
          name: flags.name,
          github: flags.github,
          localForge: flags.localForge,
          remote: flags.remote,
        });
        if (ctx.globals.json) {
          ctx.out.data({ created: result.created, kept: result.kept, ...(result.remote === undefined ? {} : { remote: result.remote }) });
          return 0;
        }
        const { out } = ctx;
        out.line(`cspace project in ${result.directory}`);
        for (const file of result.created) out.line(`  ${out.style("green", "created")} ${file}`);
        for (const file of result.kept) out.line(`  ${out.style("yellow", "kept")}    ${file} (already there, left unchanged)`);
        for (const note of result.notes) out.line(`  ${note}`);
        out.line();
        out.line(out.style("bold", "Next steps:"));
        out.line(`  cspace doctor   check that Docker, git and the forge are ready`);
        out.line(`  cspace plan     see which issues would launch now, and on which branch`);
        out.line(`Personal overrides go in .cspace.local.json; keep it out of git.`);
        return 0;
      }),
    );
}
