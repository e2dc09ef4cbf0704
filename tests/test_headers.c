/* Links one translation unit per public header (tests/headers/NAME.c) and
 * checks that the header and library versions agree. */
#include <stdio.h>

#include <ruvector/ruvector.h>

int ruv_test_header_error(void);
int ruv_test_header_cpu(void);
int ruv_test_header_engine(void);
int ruv_test_header_kernel(void);
int ruv_test_header_plugin(void);
int ruv_test_header_version(void);
int ruv_test_header_ruvector(void);
int ruv_test_header_index(void);
int ruv_test_header_kernel_isa(void);
int ruv_test_header_feature_a2a(void);
int ruv_test_header_feature_lake(void);
int ruv_test_header_feature_embed(void);
int ruv_test_header_cancel(void);

int main(void)
{
    int rc = ruv_test_header_error() | ruv_test_header_cpu() | ruv_test_header_engine() |
             ruv_test_header_kernel() | ruv_test_header_plugin() | ruv_test_header_version() |
             ruv_test_header_ruvector() | ruv_test_header_index() | ruv_test_header_kernel_isa() |
             ruv_test_header_feature_a2a() | ruv_test_header_feature_lake() |
             ruv_test_header_feature_embed() | ruv_test_header_cancel();
    if (ruv_version() != RUV_VERSION_HEX) {
        printf("header version %s does not match library %s\n", RUV_VERSION_STRING,
               ruv_version_string());
        return 1;
    }
    printf("1 passed, 0 failed\n");
    return rc;
}
