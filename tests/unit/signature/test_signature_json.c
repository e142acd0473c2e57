/* SPDX-License-Identifier: MPL-2.0 */
/* test_signature_json.c: the server side of signatures: crash_data JSON conversion, the
 * {"signature", "notes", "proto_signature"} result, and the processed crash built from a
 * rust-minidump stackwalk (snapshots read in place from the corpus) plus annotations. */
#include <string.h>

#include <jansson.h>

#include "crashdata.h"
#include "signature_json.h"
#include "t.h"

static struct srv_signature svc;
static struct sig_generator *gen;

static void setup(void)
{
    static bool done;
    if (done)
        return;
    struct sym_diag d;
    if (srv_signature_init(&svc, sig_lists_default_dir(), &d) != SYM_OK)
        T_FAIL("%s", d.msg);
    T_ASSERT_OK(sig_generator_new(&gen));
    done = true;
}

static json_t *load_snapshot(const char *rel)
{
    size_t len;
    char *text = t_read_file(t_corpus_path(rel), &len);
    /* insta snapshots: a YAML header between two "---" lines, then the output */
    char *body = strstr(text, "\n---\n");
    T_ASSERT(body != NULL);
    body += 5;
    json_error_t err;
    json_t *j = json_loads(body, 0, &err);
    free(text);
    if (j == NULL)
        T_FAIL("%s: %s", rel, err.text);
    return j;
}

static void test_result_shape(void)
{
    setup();
    json_t *cd = json_loads("{\"threads\":[{\"frames\":[{\"function\":\"f(int)\",\"module\":\"x\"},"
                            "{\"function\":\"g\"}]}],\"abort_message\":\"boom\"}",
                            0, NULL);
    json_t *out = NULL;
    struct sym_diag d;
    T_ASSERT_OK(srv_signature_json(&svc, gen, cd, false, &out, &d));
    T_ASSERT_STR_EQ(json_string_value(json_object_get(out, "signature")), "Abort | boom | f");
    T_ASSERT_STR_EQ(json_string_value(json_object_get(out, "proto_signature")), "f | g");
    T_ASSERT(json_is_array(json_object_get(out, "notes")));
    T_ASSERT(json_object_get(out, "debug_log") == NULL);
    json_decref(out);
    T_ASSERT_OK(srv_signature_json(&svc, gen, cd, true, &out, &d));
    T_ASSERT(json_array_size(json_object_get(out, "debug_log")) > 0);
    json_decref(out);
    json_decref(cd);

    /* Garbage is not an error: an array in place of crash_data is an empty dict to Socorro. */
    json_t *junk = json_loads("[1, 2]", 0, NULL);
    T_ASSERT_OK(srv_signature_json(&svc, gen, junk, false, &out, &d));
    T_ASSERT_STR_EQ(json_string_value(json_object_get(out, "signature")),
                    "EMPTY: no frame data available");
    T_ASSERT(json_is_null(json_object_get(out, "proto_signature")));
    json_decref(out);
    json_decref(junk);
}

static void test_depth_limit(void)
{
    json_t *root = json_array(), *cur = root;
    for (int i = 0; i < SRV_CRASHDATA_MAX_DEPTH + 5; i++) {
        json_t *next = json_array();
        json_array_append_new(cur, next);
        cur = next;
    }
    struct srv_crashdata cd;
    struct sym_diag d;
    T_ASSERT_ERR(srv_crashdata_from_json(root, &cd, &d), SYM_ELIMIT);
    srv_crashdata_cleanup(&cd);
    json_decref(root);
}

static void test_build_from_annotations(void)
{
    json_t *sw = json_loads("{\"status\":\"OK\",\"crash_info\":{\"crashing_thread\":0,\"type\":"
                            "\"SIGSEGV\"},\"system_info\":{\"os\":\"Linux\"},\"threads\":[]}",
                            0, NULL);
    json_t *ann = json_loads(
        "{\"OOMAllocationSize\":\"4096\",\"AbortMessage\":\"a\",\"JavaException\":"
        "\"{\\\"exception\\\":{}}\",\"additional_minidumps\":\"browser, content\",\"Hang\":\"ui\","
        "\"ProductName\":\"Firefox\"}",
        0, NULL);
    json_t *cd = NULL;
    T_ASSERT_OK(srv_crashdata_build(sw, ann, &cd));
    T_ASSERT_EQ(json_integer_value(json_object_get(cd, "oom_allocation_size")), 4096);
    T_ASSERT_STR_EQ(json_string_value(json_object_get(cd, "reason")), "SIGSEGV");
    T_ASSERT_STR_EQ(json_string_value(json_object_get(cd, "os")), "Linux");
    T_ASSERT_STR_EQ(json_string_value(json_object_get(cd, "abort_message")), "a");
    T_ASSERT_STR_EQ(json_string_value(json_object_get(cd, "hang")), "ui");
    T_ASSERT(json_is_object(json_object_get(cd, "java_exception")));
    T_ASSERT_EQ(json_array_size(json_object_get(cd, "additional_minidumps")), 2);
    T_ASSERT(json_object_get(cd, "mdsw_status_string") == NULL);
    T_ASSERT(json_object_get(cd, "ProductName") == NULL);
    json_decref(cd);
    /* Missing or mistyped inputs give an empty crash_data, never a failure. */
    T_ASSERT_OK(srv_crashdata_build(NULL, sw /* not annotations, but an object */, &cd));
    json_decref(cd);
    json_decref(sw);
    json_decref(ann);
}

static void test_process_snapshot_symbols(void)
{
    setup();
    json_t *sw = load_snapshot("rust-minidump/minidump-stackwalk/tests/snapshots/"
                               "test_minidump_stackwalk__json-pretty-symbols.snap");
    json_t *ann = json_loads("{\"ProductName\":\"Test\",\"MozCrashReason\":\"x\"}", 0, NULL);
    json_t *out = NULL;
    struct sym_diag d;
    T_ASSERT_OK(srv_signature_process(&svc, gen, sw, ann, true, &out, &d));
    T_ASSERT(json_object_get(out, "json_dump") == sw);
    T_ASSERT_STR_EQ(json_string_value(json_object_get(out, "signature")),
                    "(anonymous namespace)::CrashFunction");
    T_ASSERT(json_is_string(json_object_get(out, "proto_signature")));
    T_ASSERT(json_is_array(json_object_get(out, "signature_notes")));
    T_ASSERT(json_is_string(json_object_get(out, "signature_debug")));
    json_t *cd = json_object_get(out, "crash_data");
    T_ASSERT_STR_EQ(json_string_value(json_object_get(cd, "os")), "Windows NT");
    T_ASSERT_STR_EQ(json_string_value(json_object_get(cd, "reason")),
                    "EXCEPTION_ACCESS_VIOLATION_WRITE");
    /* The same crash_data through the /signature path gives the same signature. */
    json_t *again = NULL;
    T_ASSERT_OK(srv_signature_json(&svc, gen, cd, false, &again, &d));
    T_ASSERT_STR_EQ(json_string_value(json_object_get(again, "signature")),
                    json_string_value(json_object_get(out, "signature")));
    json_decref(again);
    json_decref(out);
    json_decref(ann);
    json_decref(sw);
}

static void test_process_snapshot_inlines(void)
{
    setup();
    json_t *sw = load_snapshot("rust-minidump/minidump-stackwalk/tests/snapshots/"
                               "test_minidump_stackwalk__macos_inlines_json_pretty.snap");
    json_t *out = NULL;
    struct sym_diag d;
    T_ASSERT_OK(srv_signature_process(&svc, gen, sw, NULL, false, &out, &d));
    const char *sig = json_string_value(json_object_get(out, "signature"));
    T_ASSERT(sig != NULL && *sig != '\0' && strncmp(sig, "EMPTY", 5) != 0);
    json_decref(out);
    json_decref(sw);
}

T_LIST(T_TEST(test_result_shape), T_TEST(test_depth_limit), T_TEST(test_build_from_annotations),
       T_TEST(test_process_snapshot_symbols), T_TEST(test_process_snapshot_inlines))
