/* examples/host.c — the smallest C host: open an engine, show what it chose.
 *
 *   usage: host [auto|scalar|avx2|avx512|neon] [plugin...]
 *   build: cc host.c $(pkg-config --cflags --libs ruvector)
 *
 * The kernel named here beats RUVECTOR_KERNEL (API > environment > default);
 * extra arguments load feature plugins by module name. */
#include <stdio.h>
#include <string.h>

#include <ruvector/ruvector.h>

int main(int argc, char **argv)
{
    ruv_config *cfg = NULL;
    ruv_engine *eng = NULL;
    char *json = NULL;
    if (ruv_config_new(&cfg) != RUV_OK)
        return 1;
    int st = RUV_OK;
    if (argc > 1 && strcmp(argv[1], "auto") != 0)
        st = ruv_config_set_kernel(cfg, argv[1]);
    for (int i = 2; i < argc && st == RUV_OK; i++)
        st = ruv_config_add_plugin(cfg, argv[i]);
    if (st == RUV_OK)
        st = ruv_engine_open(cfg, &eng);
    ruv_config_free(cfg);
    if (st != RUV_OK) {
        fprintf(stderr, "%s: %s\n", ruv_status_name(st), ruv_last_error());
        return 1;
    }

    /* Use the selected kernel directly: squared L2 between two vectors. */
    const struct ruv_kernel_ops *k = ruv_engine_kernel(eng);
    float a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 3, 0};
    printf("kernel: %s (%s); l2sq = %g\n", ruv_engine_kernel_name(eng),
           ruv_engine_kernel_source(eng), (double)k->l2sq_f32(a, b, 4));

    if (ruv_engine_report(eng, &json) == RUV_OK) {
        fputs(json, stdout);
        ruv_free(json);
    }
    ruv_engine_close(eng);
    return 0;
}
