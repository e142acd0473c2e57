/* SPDX-License-Identifier: MPL-2.0 */
/* test_buf.c: the capped buffer and the error table. */
#include "sym/alloc.h"
#include "sym/buf.h"
#include "sym/err.h"
#include "t.h"

static void test_append_and_steal(void)
{
    struct sym_buf b;
    sym_buf_init(&b, 0);
    sym_buf_append_str(&b, "abc");
    sym_buf_printf(&b, "-%d-", 42);
    sym_buf_append_char(&b, 'z');
    T_ASSERT_OK(sym_buf_err(&b));
    size_t len;
    char *s = sym_buf_steal(&b, &len);
    T_ASSERT_STR_EQ(s, "abc-42-z");
    T_ASSERT_EQ(len, 8);
    sym_free(s);
    sym_buf_cleanup(&b);
}

static void test_cap(void)
{
    struct sym_buf b;
    sym_buf_init(&b, 4);
    sym_buf_append_str(&b, "abcd");
    T_ASSERT_OK(sym_buf_err(&b));
    sym_buf_append_char(&b, 'e');
    T_ASSERT_ERR(sym_buf_err(&b), SYM_ELIMIT);
    sym_buf_append_char(&b, 'f');
    T_ASSERT_ERR(sym_buf_err(&b), SYM_ELIMIT);
    T_ASSERT(sym_buf_steal(&b, NULL) == NULL);
    sym_buf_cleanup(&b);
}

static void test_alloc_failure(void)
{
    for (unsigned long k = 1; k <= 3; k++) {
        struct sym_buf b;
        sym_buf_init(&b, 0);
        sym_alloc_fail_at(k);
        for (int i = 0; i < 100; i++)
            sym_buf_append_str(&b, "0123456789");
        sym_alloc_fail_at(0);
        T_ASSERT_ERR(sym_buf_err(&b), SYM_ENOMEM);
        sym_buf_cleanup(&b);
    }
}

static void test_errnames(void)
{
    T_ASSERT_STR_EQ(sym_errname(SYM_EPARSE), "SYM_EPARSE");
    T_ASSERT_STR_EQ(sym_strerror(SYM_ENOTFOUND), "not found");
    T_ASSERT(sym_err_retryable(SYM_EUNAVAIL));
    T_ASSERT(!sym_err_retryable(SYM_EPARSE));
}

T_LIST(T_TEST(test_append_and_steal), T_TEST(test_cap), T_TEST(test_alloc_failure),
       T_TEST(test_errnames))
