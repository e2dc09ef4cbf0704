/* The durable-write routine (engine/store/durable.c): a failure injected at
 * every system call leaves the destination as it was and no temporary
 * behind; stale temporaries of dead writers are removed and live ones kept;
 * a writer killed with SIGKILL leaves the old file readable. */
#define _GNU_SOURCE
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ruvector/error.h>

#include "store/durable.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/ruv-durable-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void expect_content(const char *path, const char *text)
{
    char buf[256] = {0};
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_string_equal(buf, text);
}

/* Entries of dir other than "." and ".." and the names in keep. */
static int count_others(const char *d, const char *keep1, const char *keep2)
{
    DIR *dd = opendir(d);
    assert_non_null(dd);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dd)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            (!keep1 || strcmp(e->d_name, keep1)) && (!keep2 || strcmp(e->d_name, keep2)))
            n++;
    closedir(dd);
    return n;
}

/* ---- failure injection: the nth call of one system call fails ---- */

enum which { W_OPENAT, W_FLOCK, W_WRITE, W_PWRITE, W_FSYNC, W_CLOSE, W_RENAME, W_MKDIR, W_N };
static int fail_which = -1, fail_nth, calls[W_N];

static int hit(enum which w)
{
    return (int)w == fail_which && ++calls[w] == fail_nth;
}

static int f_openat(int d, const char *p, int fl, mode_t m)
{
    if (hit(W_OPENAT)) {
        errno = EACCES;
        return -1;
    }
    return ruv__durable_real_sys.openat(d, p, fl, m);
}
static int f_flock(int fd, int op)
{
    if (hit(W_FLOCK)) {
        errno = ENOLCK;
        return -1;
    }
    return ruv__durable_real_sys.flock(fd, op);
}
static ssize_t f_write(int fd, const void *b, size_t n)
{
    if (hit(W_WRITE)) {
        errno = ENOSPC;
        return -1;
    }
    return ruv__durable_real_sys.write(fd, b, n);
}
static ssize_t f_pwrite(int fd, const void *b, size_t n, off_t o)
{
    if (hit(W_PWRITE)) {
        errno = EIO;
        return -1;
    }
    return ruv__durable_real_sys.pwrite(fd, b, n, o);
}
static int f_fsync(int fd)
{
    if (hit(W_FSYNC)) {
        errno = EIO;
        return -1;
    }
    return ruv__durable_real_sys.fsync(fd);
}
static int f_close(int fd)
{
    if (hit(W_CLOSE)) {
        ruv__durable_real_sys.close(fd);
        errno = EIO;
        return -1;
    }
    return ruv__durable_real_sys.close(fd);
}
static int f_rename(int a, const char *b, int c, const char *d)
{
    if (hit(W_RENAME)) {
        errno = EXDEV;
        return -1;
    }
    return ruv__durable_real_sys.renameat(a, b, c, d);
}
static int f_mkdir(int d, const char *p, mode_t m)
{
    if (hit(W_MKDIR)) {
        errno = EROFS;
        return -1;
    }
    return ruv__durable_real_sys.mkdirat(d, p, m);
}

static int f_unlinkat(int d, const char *p, int fl)
{
    return ruv__durable_real_sys.unlinkat(d, p, fl);
}

static const struct ruv__durable_sys faulty = {
    f_openat, f_flock, f_write, f_pwrite, f_fsync, f_close, f_rename, f_mkdir, f_unlinkat,
};

/* One save through every step: mkdir -p, write, pwrite over the start. */
static int save(const char *path, const char *text, unsigned flags)
{
    struct ruv__durable d;
    int rc = ruv__durable_open(&d, path, flags);
    if (rc)
        return rc;
    size_t n = strlen(text), k = n >= 2 ? 2 : n;
    if ((rc = ruv__durable_write(&d, "XX", k)) || (rc = ruv__durable_write(&d, text + k, n - k)) ||
        (rc = ruv__durable_pwrite(&d, text, k, 0)))
        return rc; /* a failed call has already cleaned up */
    return ruv__durable_commit(&d);
}

static void test_round_trip(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/a.idx", dir);
    assert_int_equal(save(path, "first version", 0), RUV_OK);
    expect_content(path, "first version");
    assert_int_equal(save(path, "second", 0), RUV_OK);
    expect_content(path, "second");
    assert_int_equal(count_others(dir, "a.idx", NULL), 0);
    assert_int_equal(ruv__durable_write_file(path, "third", 5, 0), RUV_OK);
    expect_content(path, "third");
    /* mkdir -p, then the same again over existing directories */
    snprintf(path, sizeof path, "%s/x/y/z.json", dir);
    assert_int_equal(save(path, "deep", 0), RUV_E_NOTFOUND);
    assert_int_equal(save(path, "deep", RUV__DURABLE_MKDIRS), RUV_OK);
    expect_content(path, "deep");
    assert_int_equal(save(path, "deeper", RUV__DURABLE_MKDIRS), RUV_OK);
    expect_content(path, "deeper");
}

static void test_bad_paths(void **state)
{
    (void)state;
    struct ruv__durable d;
    assert_int_equal(ruv__durable_open(&d, "", 0), RUV_E_INVAL);
    ruv__durable_abort(&d);
    char path[300];
    snprintf(path, sizeof path, "%s/", dir);
    assert_int_equal(ruv__durable_open(&d, path, 0), RUV_E_INVAL);
    assert_non_null(strstr(ruv_last_error(), "names a directory"));
    snprintf(path, sizeof path, "%s/..", dir);
    assert_int_equal(ruv__durable_open(&d, path, 0), RUV_E_INVAL);
    /* a zeroed struct and a finished one abort harmlessly */
    memset(&d, 0, sizeof d);
    ruv__durable_abort(&d);
    /* calls after a failure keep the first status */
    snprintf(path, sizeof path, "%s/b.idx", dir);
    assert_int_equal(ruv__durable_open(&d, path, 0), RUV_OK);
    ruv__durable_abort(&d);
    assert_int_equal(ruv__durable_write(&d, "x", 1), RUV_E_STATE);
    assert_int_equal(count_others(dir, "a.idx", "x"), 0);
}

/* Every call of every kind fails once in turn: the old file stays intact,
 * no temporary is left, and the message names the step. */
static void test_failure_at_every_step(void **state)
{
    (void)state;
    char sub[300], path[400];
    snprintf(sub, sizeof sub, "%s/f", dir);
    assert_int_equal(mkdir(sub, 0777), 0);
    snprintf(path, sizeof path, "%s/idx.bin", sub);
    put(path, "old content");
    int failures = 0;
    for (int w = 0; w < W_N; w++) {
        for (int nth = 1; nth <= 4; nth++) {
            /* after the temporary's close, only the directory is closed,
             * and its close failing loses nothing */
            if (w == W_CLOSE && nth > 1)
                break;
            memset(calls, 0, sizeof calls);
            fail_which = w;
            fail_nth = nth;
            ruv__durable_set_sys(&faulty);
            int rc = save(path, "new content", 0);
            ruv__durable_set_sys(NULL);
            fail_which = -1;
            if (calls[w] < nth) { /* this call was made fewer than nth times */
                assert_int_equal(rc, RUV_OK);
                expect_content(path, "new content");
                put(path, "old content");
                break;
            }
            failures++;
            assert_int_not_equal(rc, RUV_OK);
            const char *msg = ruv_last_error();
            assert_non_null(strstr(msg, "idx.bin"));
            if (strncmp(msg, "saved", 5) == 0) {
                /* past the rename: the new file is in place, only its
                 * durability is in doubt, and the message says so */
                assert_non_null(strstr(msg, "may not survive a crash"));
                expect_content(path, "new content");
                put(path, "old content");
            } else {
                expect_content(path, "old content");
            }
            assert_int_equal(count_others(sub, "idx.bin", NULL), 0);
        }
    }
    /* open dir, open temp, flock, write x2, pwrite, fsync file, fsync dir,
     * close, rename: at least these ten distinct failures */
    assert_true(failures >= 10);
    /* a failing mkdir -p leaves nothing behind */
    memset(calls, 0, sizeof calls);
    fail_which = W_MKDIR;
    fail_nth = 2;
    ruv__durable_set_sys(&faulty);
    snprintf(path, sizeof path, "%s/g/h/i.bin", dir);
    assert_int_equal(save(path, "x", RUV__DURABLE_MKDIRS), RUV_E_IO);
    ruv__durable_set_sys(NULL);
    fail_which = -1;
    assert_non_null(strstr(ruv_last_error(), "creating directory"));
}

static void test_stale_temporaries(void **state)
{
    (void)state;
    char sub[300], path[400], stale[400], live[400], other[400];
    snprintf(sub, sizeof sub, "%s/s", dir);
    assert_int_equal(mkdir(sub, 0777), 0);
    snprintf(path, sizeof path, "%s/t.idx", sub);
    snprintf(stale, sizeof stale, "%s/.t.idx.tmp.123.456.0123456789abcdef", sub);
    snprintf(live, sizeof live, "%s/.t.idx.tmp.77.78.fedcba9876543210", sub);
    snprintf(other, sizeof other, "%s/.t.idx.tmp.1.2.NOTHEX0000000000", sub);
    put(stale, "dead writer");
    put(live, "live writer");
    put(other, "not ours");
    int lfd = open(live, O_RDONLY);
    assert_true(lfd >= 0);
    assert_int_equal(flock(lfd, LOCK_EX), 0); /* another open file: conflicts */
    assert_int_equal(save(path, "v", 0), RUV_OK);
    assert_int_equal(access(stale, F_OK), -1);
    assert_int_equal(access(live, F_OK), 0);
    assert_int_equal(access(other, F_OK), 0);
    close(lfd); /* the live writer is gone now: the next save removes it */
    assert_int_equal(save(path, "w", 0), RUV_OK);
    assert_int_equal(access(live, F_OK), -1);
    assert_int_equal(access(other, F_OK), 0);
    expect_content(path, "w");
}

/* A writer killed with SIGKILL mid-write: the old file stays whole and the
 * next writer removes the temporary it left. */
static void test_killed_writer(void **state)
{
    (void)state;
    char sub[300], path[400];
    snprintf(sub, sizeof sub, "%s/k", dir);
    assert_int_equal(mkdir(sub, 0777), 0);
    snprintf(path, sizeof path, "%s/k.idx", sub);
    put(path, "old");
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct ruv__durable d;
        if (ruv__durable_open(&d, path, 0) || ruv__durable_write(&d, "partial", 7))
            _exit(1);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(count_others(sub, "k.idx", NULL), 1); /* its temporary */
    kill(pid, SIGKILL);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    expect_content(path, "old");
    assert_int_equal(save(path, "new", 0), RUV_OK);
    expect_content(path, "new");
    assert_int_equal(count_others(sub, "k.idx", NULL), 0);
    close(ready[0]);
    close(ready[1]);
}

/* The same routine for a name inside an open directory: the directory the
 * caller opened is the one written, even if its path is renamed away. */
static void test_openat(void **state)
{
    (void)state;
    char sub[300], moved[300], path[400], stale[500];
    snprintf(sub, sizeof sub, "%s/at", dir);
    snprintf(moved, sizeof moved, "%s/at-moved", dir);
    assert_int_equal(mkdir(sub, 0777), 0);
    snprintf(stale, sizeof stale, "%s/.s.json.tmp.1.2.00000000000000aa", sub);
    put(stale, "dead writer");
    int dfd = open(sub, O_RDONLY | O_DIRECTORY);
    assert_true(dfd >= 0);
    assert_int_equal(rename(sub, moved), 0);
    struct ruv__durable d;
    assert_int_equal(ruv__durable_openat(&d, dfd, "s.json"), RUV_OK);
    close(dfd); /* the writer keeps its own descriptor */
    assert_int_equal(ruv__durable_write(&d, "{}", 2), RUV_OK);
    assert_int_equal(ruv__durable_commit(&d), RUV_OK);
    snprintf(path, sizeof path, "%s/s.json", moved);
    expect_content(path, "{}");
    assert_int_equal(count_others(moved, "s.json", NULL), 0); /* stale one removed */
    assert_int_equal(ruv__durable_openat(&d, dfd, "/abs"), RUV_E_INVAL);
    assert_int_equal(ruv__durable_openat(&d, dfd, "a/"), RUV_E_INVAL);
    assert_int_equal(ruv__durable_openat(&d, dfd, ".."), RUV_E_INVAL);
    assert_int_equal(ruv__durable_openat(&d, -1, "x"), RUV_E_IO);
    /* a subdirectory of the open directory: found relative to it */
    int mfd = open(moved, O_RDONLY | O_DIRECTORY);
    assert_true(mfd >= 0);
    assert_int_equal(ruv__durable_openat(&d, mfd, "no-such/x"), RUV_E_NOTFOUND);
    snprintf(path, sizeof path, "%s/sub", moved);
    assert_int_equal(mkdir(path, 0777), 0);
    assert_int_equal(ruv__durable_openat(&d, mfd, "sub/y"), RUV_OK);
    assert_int_equal(ruv__durable_commit(&d), RUV_OK);
    snprintf(path, sizeof path, "%s/sub/y", moved);
    expect_content(path, "");
    close(mfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_paths),
        cmocka_unit_test(test_failure_at_every_step),
        cmocka_unit_test(test_stale_temporaries),
        cmocka_unit_test(test_killed_writer),
        cmocka_unit_test(test_openat),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
