/* ruvector: command-line front end over libruvector. */
#include <stdio.h>
#include <string.h>

#include <ruvector/ruvector.h>

#include "cli_cancel.h"
#include "cli_messages.h"
#include "commands.h"

static void usage(FILE *f)
{
    fputs("usage: ruvector <command> [options]\n"
          "\n"
          "commands:\n"
          "  info [--json]            CPU, plugins, selected kernel and why\n"
          "  bench-kernels [--quick]  kernel throughput next to this machine's memory bandwidth\n"
          "  build <base> -o <index>  build an index from .fvecs/.bvecs/.npy and save it\n"
          "  search <index> <queries> search every query; print ids or write them (--out)\n"
          "  bench <base> <queries>   recall@1/10/100, QPS, latency, build time, bytes/vector\n"
          "\n"
          "options:\n"
          "  -h, --help               this help\n"
          "  -V, --version            print the version\n"
          "\n"
          "environment (read once when the engine opens; API settings win):\n"
          "  RUVECTOR_KERNEL=auto|scalar|avx2|avx512|neon   force a kernel\n"
          "  RUVECTOR_PLUGIN_PATH=dir[:dir...]              plugin directories\n"
          "  RUVECTOR_DISABLE=name[,name...]                plugins not to load\n"
          "  RUVECTOR_VERBOSE=0|1|2                         log decisions to stderr\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("ruvector %s\n", ruv_version_string());
        if (ruv_version() != RUV_VERSION_HEX)
            fprintf(stderr, "ruvector: warning: built with headers %s, running library %s\n",
                    RUV_VERSION_STRING, ruv_version_string());
        return 0;
    }
    if (!strcmp(cmd, "info"))
        return cmd_info(argc - 1, argv + 1);
    int (*index_cmd)(int, char **) = !strcmp(cmd, "build")    ? cmd_build
                                    : !strcmp(cmd, "search") ? cmd_search
                                    : !strcmp(cmd, "bench")  ? cmd_bench
                                                             : NULL;
    if (index_cmd) { /* long calls: Ctrl-C cancels them cleanly */
        if (cli_cancel_install(cmd) != 0)
            return 1;
        int code = index_cmd(argc - 1, argv + 1);
        if (cli_interrupted() && code != EXIT_INTERRUPTED) /* finished, or failed, meanwhile */
            code = say_error(EXIT_INTERRUPTED, cmd, "interrupted");
        cli_cancel_remove();
        return code;
    }
    if (!strcmp(cmd, "bench-kernels"))
        return cmd_bench_kernels(argc - 1, argv + 1);
    fprintf(stderr, "ruvector: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
