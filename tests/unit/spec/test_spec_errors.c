/* Invalid documents: each case changes one value of a valid config and asserts the
 * exact message, which must name the file and the JSON path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/util.h"
#include "spec/spec.h"

static const char base_doc[] =
    "{\"ociVersion\":\"1.3.0\",\"root\":{\"path\":\"rootfs\"},"
    "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"}}";

struct error_case {
  const char *path;  /* dotted path of the value to replace */
  const char *value; /* JSON text, or NULL to delete the key */
  const char *message;
};

#define M(x) "{\"destination\":\"/" x "\",\"type\":\"tmpfs\"}"

static const struct error_case cases[] = {
    /* top level */
    {"ociVersion", NULL, "ociVersion: required field is missing"},
    {"ociVersion", "1", "ociVersion: expected a string"},
    {"ociVersion", "\"\"", "ociVersion: must not be empty"},
    {"ociVersion", "\"invalid\"", "ociVersion: \"invalid\" is not a SemVer version (\"1.2.0\")"},
    {"ociVersion", "\"1.0\"", "ociVersion: \"1.0\" is not a SemVer version (\"1.2.0\")"},
    {"ociVersion", "\"01.0.0\"", "ociVersion: \"01.0.0\" is not a SemVer version (\"1.2.0\")"},
    {"ociVersion", "\"1.0.0-\"", "ociVersion: \"1.0.0-\" is not a SemVer version (\"1.2.0\")"},
    {"ociVersion", "\"1.0.0-a..b\"", "ociVersion: \"1.0.0-a..b\" is not a SemVer version (\"1.2.0\")"},
    {"ociVersion", "\"1.0.0+b+c\"", "ociVersion: \"1.0.0+b+c\" is not a SemVer version (\"1.2.0\")"},
    {"ociVersion", "\"2.0.0\"", "ociVersion: \"2.0.0\": brick implements runtime-spec 1.x"},
    {"root", NULL, "root: required field is missing"},
    {"root", "{}", "root.path: required field is missing"},
    {"root", "\"rootfs\"", "root: expected an object"},
    {"root.readonly", "\"yes\"", "root.readonly: expected a boolean"},
    {"hostname", "[]", "hostname: expected a string"},
    {"annotations", "{\"a\":1}", "annotations.a: expected a string"},
    {"annotations", "[\"a\"]", "annotations: expected an object"},
    /* process */
    {"process", "\"sh\"", "process: expected an object"},
    {"process.args", "\"sh\"", "process.args: expected an array of strings"},
    {"process.args", "[\"sh\",1]", "process.args: expected an array of strings"},
    {"process.args", "[]", "process.args: must not be empty"},
    {"process.args", NULL, "process.args: required field is missing"},
    {"process.cwd", "\"tmp\"", "process.cwd: \"tmp\" is not an absolute path"},
    {"process.cwd", NULL, "process.cwd: required field is missing"},
    {"process.env", "[\"A=1\",\"NOEQ\"]", "process.env[1]: \"NOEQ\" is not of the form KEY=VALUE"},
    {"process.env", "[\"=x\"]", "process.env[0]: \"=x\" is not of the form KEY=VALUE"},
    {"process.terminal", "\"true\"", "process.terminal: expected a boolean"},
    {"process.capabilities.bounding", "[\"CAP_CHOWN\",\"CAP_FOO\"]",
     "process.capabilities.bounding[1]: unknown capability \"CAP_FOO\""},
    {"process.capabilities.effective", "[\"cap_kill\"]",
     "process.capabilities.effective[0]: unknown capability \"cap_kill\""},
    {"process.capabilities.ambient", "\"CAP_KILL\"",
     "process.capabilities.ambient: expected an array of strings"},
    {"process.rlimits", "[{\"type\":\"RLIMIT_FOO\",\"soft\":1,\"hard\":1}]",
     "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\""},
    {"process.rlimits",
     "[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1,\"hard\":1},"
     "{\"type\":\"RLIMIT_NOFILE\",\"soft\":2,\"hard\":2}]",
     "process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\""},
    {"process.rlimits", "[{\"type\":\"RLIMIT_CORE\",\"soft\":1}]",
     "process.rlimits[0].hard: required field is missing"},
    {"process.rlimits", "[{\"type\":\"RLIMIT_CORE\",\"soft\":10,\"hard\":5}]",
     "process.rlimits[0]: soft limit 10 exceeds hard limit 5"},
    {"process.rlimits", "{}", "process.rlimits: expected an array"},
    {"process.user.uid", "-1", "process.user.uid: -1 is out of range [0, 4294967295]"},
    {"process.user.uid", "4294967296", "process.user.uid: 4294967296 is out of range [0, 4294967295]"},
    {"process.user.umask", "1000", "process.user.umask: 1000 is out of range [0, 511]"},
    {"process.user.additionalGids", "[1,\"x\"]",
     "process.user.additionalGids[1]: expected a group id (0 to 4294967295)"},
    {"process.oomScoreAdj", "1001", "process.oomScoreAdj: 1001 is out of range [-1000, 1000]"},
    {"process.oomScoreAdj", "1.5", "process.oomScoreAdj: expected an integer"},
    {"process.ioPriority", "{\"class\":\"IOPRIO_CLASS_FOO\"}",
     "process.ioPriority.class: unknown class \"IOPRIO_CLASS_FOO\""},
    {"process.ioPriority", "{\"class\":\"IOPRIO_CLASS_RT\",\"priority\":8}",
     "process.ioPriority.priority: 8 is out of range [0, 7]"},
    {"process.scheduler", "{\"policy\":\"SCHED_FOO\"}",
     "process.scheduler.policy: unknown scheduler policy \"SCHED_FOO\""},
    {"process.scheduler", "{\"nice\":1}", "process.scheduler.policy: required field is missing"},
    {"process.scheduler", "{\"policy\":\"SCHED_OTHER\",\"flags\":[\"SCHED_FLAG_X\"]}",
     "process.scheduler.flags[0]: unknown scheduler flag \"SCHED_FLAG_X\""},
    {"process.scheduler", "{\"policy\":\"SCHED_OTHER\",\"nice\":20}",
     "process.scheduler.nice: 20 is out of range [-20, 19]"},
    {"process.consoleSize", "{\"height\":1}", "process.consoleSize.width: required field is missing"},
    {"process.execCPUAffinity", "{\"initial\":\"3-1\"}",
     "process.execCPUAffinity.initial: invalid CPU list \"3-1\""},
    {"process.execCPUAffinity", "{\"final\":\"0,,1\"}",
     "process.execCPUAffinity.final: invalid CPU list \"0,,1\""},
    /* mounts */
    {"mounts", "{}", "mounts: expected an array"},
    {"mounts", "[1]", "mounts[0]: expected an object"},
    {"mounts", "[{\"type\":\"tmpfs\"}]", "mounts[0].destination: required field is missing"},
    {"mounts", "[{\"destination\":\"\"}]", "mounts[0].destination: must not be empty"},
    {"mounts", "[" M("a") "," M("b") "," M("c") ",{\"destination\":\"/d\",\"options\":[\"nosuid\",\"nosuidd\"]}]",
     "mounts[3].options[1]: unknown mount option \"nosuidd\""},
    {"mounts", "[{\"destination\":\"/d\",\"options\":[\"rpirvate\"]}]",
     "mounts[0].options[0]: unknown mount option \"rpirvate\""},
    {"mounts", "[{\"destination\":\"/d\",\"options\":[\"noexe\"]}]",
     "mounts[0].options[0]: unknown mount option \"noexe\""},
    {"mounts", "[{\"destination\":\"/d\",\"options\":[\"ro\",\"\"]}]",
     "mounts[0].options[1]: empty mount option"},
    {"mounts", "[{\"destination\":\"/d\",\"options\":\"ro\"}]",
     "mounts[0].options: expected an array of strings"},
    {"mounts", "[{\"destination\":\"/d\",\"uidMappings\":[{\"containerID\":0,\"hostID\":0}]}]",
     "mounts[0].uidMappings[0].size: required field is missing"},
    {"mounts", "[{\"destination\":\"/d\",\"source\":7}]", "mounts[0].source: expected a string"},
    /* hooks */
    {"hooks.prestart", "[{\"path\":\"rel\"}]", "hooks.prestart[0].path: \"rel\" is not an absolute path"},
    {"hooks.poststop", "[{\"path\":\"/x\",\"timeout\":0}]", "hooks.poststop[0].timeout: must be greater than 0"},
    {"hooks.poststart", "[{\"path\":\"/x\",\"timeout\":-3}]", "hooks.poststart[0].timeout: must be greater than 0"},
    {"hooks.createRuntime", "[{}]", "hooks.createRuntime[0].path: required field is missing"},
    {"hooks.startContainer", "[{\"path\":\"/x\",\"args\":[1]}]",
     "hooks.startContainer[0].args: expected an array of strings"},
    {"hooks", "[]", "hooks: expected an object"},
    /* linux */
    {"linux", "[]", "linux: expected an object"},
    {"linux.namespaces", "[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"pidd\"}]",
     "linux.namespaces[2].type: unknown namespace \"pidd\""},
    {"linux.namespaces", "[{\"type\":\"pid\"},{\"type\":\"pid\"}]",
     "linux.namespaces[1].type: duplicate namespace \"pid\""},
    {"linux.namespaces", "[{\"type\":\"pid\",\"path\":\"proc/1/ns/pid\"}]",
     "linux.namespaces[0].path: \"proc/1/ns/pid\" is not an absolute path"},
    {"linux.namespaces", "[{\"path\":\"/x\"}]", "linux.namespaces[0].type: required field is missing"},
    {"linux.uidMappings", "[{\"containerID\":0,\"hostID\":1000,\"size\":0}]",
     "linux.uidMappings[0]: size must be greater than 0"},
    {"linux.gidMappings", "[{\"containerID\":4294967295,\"hostID\":1000,\"size\":2}]",
     "linux.gidMappings[0]: range exceeds the 32-bit id space"},
    {"linux.timeOffsets", "{\"realtime\":{\"secs\":1}}",
     "linux.timeOffsets.realtime: unknown clock \"realtime\" (expected monotonic or boottime)"},
    {"linux.timeOffsets", "{\"monotonic\":{\"nanosecs\":1000000000}}",
     "linux.timeOffsets.monotonic.nanosecs: 1000000000 is out of range [0, 999999999]"},
    {"linux.devices", "[{\"path\":\"/dev/x\",\"type\":\"x\"}]",
     "linux.devices[0].type: unknown device type \"x\" (expected c, b, u or p)"},
    {"linux.devices", "[{\"path\":\"/dev/x\",\"type\":\"c\",\"minor\":1}]",
     "linux.devices[0].major: required field is missing"},
    {"linux.devices", "[{\"path\":\"dev/x\",\"type\":\"p\"}]",
     "linux.devices[0].path: \"dev/x\" is not an absolute path"},
    {"linux.devices", "[{\"path\":\"/dev/x\",\"type\":\"b\",\"major\":8,\"minor\":0,\"fileMode\":65535}]",
     "linux.devices[0].fileMode: 65535 is out of range [0, 4095]"},
    {"linux.resources.devices", "[{\"access\":\"r\"}]",
     "linux.resources.devices[0].allow: required field is missing"},
    {"linux.resources.devices", "[{\"allow\":true,\"access\":\"rwx\"}]",
     "linux.resources.devices[0].access: invalid access \"rwx\" (expected a combination of r, w and m)"},
    {"linux.resources.devices", "[{\"allow\":true,\"access\":\"rr\"}]",
     "linux.resources.devices[0].access: invalid access \"rr\" (expected a combination of r, w and m)"},
    {"linux.resources.devices", "[{\"allow\":true,\"type\":\"z\"}]",
     "linux.resources.devices[0].type: unknown device type \"z\" (expected a, c or b)"},
    {"linux.resources.devices", "[{\"allow\":true,\"major\":-2}]",
     "linux.resources.devices[0].major: -2 is out of range [-1, 9223372036854775807]"},
    {"linux.resources.memory.limit", "-2",
     "linux.resources.memory.limit: -2 is out of range [-1, 9223372036854775807]"},
    {"linux.resources.memory.swappiness", "101",
     "linux.resources.memory.swappiness: 101 is out of range [0, 100]"},
    {"linux.resources.memory.disableOOMKiller", "1",
     "linux.resources.memory.disableOOMKiller: expected a boolean"},
    {"linux.resources.cpu.shares", "\"1024\"", "linux.resources.cpu.shares: expected a non-negative integer"},
    {"linux.resources.cpu.idle", "2", "linux.resources.cpu.idle: 2 is out of range [0, 1]"},
    {"linux.resources.cpu.cpus", "\"0-\"", "linux.resources.cpu.cpus: invalid CPU list \"0-\""},
    {"linux.resources.cpu.mems", "\"0 1\"", "linux.resources.cpu.mems: invalid memory node list \"0 1\""},
    {"linux.resources.blockIO.weight", "70000",
     "linux.resources.blockIO.weight: 70000 is out of range [0, 65535]"},
    {"linux.resources.blockIO.throttleReadBpsDevice", "[{\"major\":8,\"minor\":0}]",
     "linux.resources.blockIO.throttleReadBpsDevice[0].rate: required field is missing"},
    {"linux.resources.blockIO.weightDevice", "[{\"minor\":0}]",
     "linux.resources.blockIO.weightDevice[0].major: required field is missing"},
    {"linux.resources.hugepageLimits", "[{\"pageSize\":\"../2MB\",\"limit\":1}]",
     "linux.resources.hugepageLimits[0].pageSize: invalid page size \"../2MB\""},
    {"linux.resources.pids.limit", "1.5", "linux.resources.pids.limit: expected an integer"},
    {"linux.resources.unified", "{\"memory.max\":5}", "linux.resources.unified.memory.max: expected a string"},
    {"linux.resources.rdma", "{\"mlx\":{\"hcaHandles\":-1}}",
     "linux.resources.rdma.mlx.hcaHandles: -1 is out of range [0, 4294967295]"},
    {"linux.resources.network.priorities", "[{\"name\":\"eth0\"}]",
     "linux.resources.network.priorities[0].priority: required field is missing"},
    {"linux.seccomp", "{\"defaultAction\":\"SCMP_ACT_FOO\"}",
     "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\""},
    {"linux.seccomp", "{}", "linux.seccomp.defaultAction: required field is missing"},
    {"linux.seccomp", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_Z80\"]}",
     "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_Z80\""},
    {"linux.seccomp", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_NEW_LISTENER\"]}",
     "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_NEW_LISTENER\""},
    {"linux.seccomp", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[],\"action\":\"SCMP_ACT_ERRNO\"}]}",
     "linux.seccomp.syscalls[0].names: must not be empty"},
    {"linux.seccomp", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"action\":\"SCMP_ACT_ERRNO\"}]}",
     "linux.seccomp.syscalls[0].names: required field is missing"},
    {"linux.seccomp", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"]}]}",
     "linux.seccomp.syscalls[0].action: required field is missing"},
    {"linux.seccomp",
     "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
     "\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_FOO\"}]}]}",
     "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_FOO\""},
    {"linux.seccomp",
     "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
     "\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
     "linux.seccomp.syscalls[0].args[0].index: 6 is out of range [0, 5]"},
    {"linux.seccomp",
     "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
     "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used"},
    {"linux.rootfsPropagation", "\"sharedd\"", "linux.rootfsPropagation: unknown propagation \"sharedd\""},
    {"linux.maskedPaths", "[\"/proc/kcore\",\"proc/keys\"]",
     "linux.maskedPaths[1]: \"proc/keys\" is not an absolute path"},
    {"linux.readonlyPaths", "\"/proc\"", "linux.readonlyPaths: expected an array of strings"},
    {"linux.personality", "{\"domain\":\"LINUX64\"}",
     "linux.personality.domain: unknown domain \"LINUX64\" (expected LINUX or LINUX32)"},
    {"linux.sysctl", "{\"net.ipv4.ip_forward\":true}", "linux.sysctl.net.ipv4.ip_forward: expected a string"},
    {"linux.intelRdt", "\"x\"", "linux.intelRdt: expected an object"},
    {"linux.cgroupsPath", "false", "linux.cgroupsPath: expected a string"},
};

/* Replace (or delete, value == NULL) the value at a dotted path, creating objects on
 * the way. */
static void set_path(json_t *doc, const char *path, const char *value) {
  _cleanup_free_ char *copy = xstrdup(path);
  json_t *obj = doc;
  char *key = copy;
  for (char *dot; (dot = strchr(key, '.')) != NULL; key = dot + 1) {
    *dot = '\0';
    json_t *next = json_object_get(obj, key);
    if (next == NULL) {
      next = json_object();
      json_object_set_new(obj, key, next);
    }
    obj = next;
  }
  if (value == NULL) {
    json_object_del(obj, key);
    return;
  }
  json_error_t jerr;
  json_t *v = json_loads(value, JSON_DECODE_ANY, &jerr);
  if (v == NULL)
    fail_msg("bad test value %s: %s", value, jerr.text);
  json_object_set_new(obj, key, v);
}

static void run_case(void **state) {
  const struct error_case *c = *state;
  json_error_t jerr;
  _cleanup_json_ json_t *doc = json_loads(base_doc, 0, &jerr);
  assert_non_null(doc);
  set_path(doc, c->path, c->value);
  brick_err err = {0};
  struct brick_spec *spec = brick_spec_parse(doc, "config.json", &err);
  if (spec != NULL) {
    brick_spec_free(spec);
    fail_msg("%s = %s was accepted", c->path, c->value ? c->value : "(deleted)");
  }
  _cleanup_free_ char *want = xasprintf("config.json: %s", c->message);
  assert_string_equal(brick_error_msg(&err), want);
  brick_error_clear(&err);
}

/* The base document itself is valid, so each case fails because of its one change. */
static void test_base_is_valid(void **state) {
  (void)state;
  json_error_t jerr;
  _cleanup_json_ json_t *doc = json_loads(base_doc, 0, &jerr);
  brick_err err = {0};
  struct brick_spec *spec = brick_spec_parse(doc, "config.json", &err);
  if (spec == NULL)
    fail_msg("%s", brick_error_msg(&err));
  brick_spec_free(spec);
}

static char *write_temp(const char *content) {
  char *path = xstrdup("/tmp/brick-spec-test-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  size_t len = strlen(content);
  assert_int_equal(write(fd, content, len), (ssize_t)len);
  close(fd);
  return path;
}

static void expect_load_error(const char *content, const char *suffix) {
  _cleanup_free_ char *path = write_temp(content);
  brick_err err = {0};
  struct brick_spec *spec = brick_spec_load(path, &err);
  unlink(path);
  if (spec) {
    brick_spec_free(spec);
    fail_msg("accepted: %s", content);
  }
  _cleanup_free_ char *want = xasprintf("%s: %s", path, suffix);
  assert_string_equal(brick_error_msg(&err), want);
  brick_error_clear(&err);
}

static void test_load_bad_json(void **state) {
  (void)state;
  expect_load_error("{\n  \"ociVersion\": \"1.3.0\",\n  \"root\": {\n    \"path\": rootfs\n",
                    "line 4 column 18: invalid token near 'rootfs'");
}

static void test_load_truncated(void **state) {
  (void)state;
  expect_load_error("{\"ociVersion\": \"1.3.0\"",
                    "line 1 column 22: '}' expected near end of file");
}

static void test_load_duplicate_key(void **state) {
  (void)state;
  expect_load_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"a\"},\"root\":{\"path\":\"b\"}}",
                    "line 1 column 48: duplicate object key near '\"root\"'");
}

static void test_load_not_object(void **state) {
  (void)state;
  expect_load_error("[1]", "expected a JSON object");
}

static void test_load_semantic_error_names_file(void **state) {
  (void)state;
  expect_load_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"sh\"],\"cwd\":\"x\"}}",
                    "process.cwd: \"x\" is not an absolute path");
}

static void test_load_missing_file(void **state) {
  (void)state;
  brick_err err = {0};
  assert_null(brick_spec_load("/nonexistent/brick/config.json", &err));
  assert_string_equal(brick_error_msg(&err),
                      "open /nonexistent/brick/config.json: No such file or directory");
  brick_error_clear(&err);
}

static void expect_process_error(const char *text, const char *message) {
  json_error_t jerr;
  _cleanup_json_ json_t *obj = json_loads(text, JSON_DECODE_ANY, &jerr);
  assert_non_null(obj);
  brick_err err = {0};
  struct brick_process *p = brick_process_parse(obj, "process.json", &err);
  if (p) {
    brick_process_free(p);
    fail_msg("accepted: %s", text);
  }
  assert_string_equal(brick_error_msg(&err), message);
  brick_error_clear(&err);
}

static void test_process_json_errors(void **state) {
  (void)state;
  expect_process_error("{\"args\":[],\"cwd\":\"/\"}", "process.json: args: must not be empty");
  expect_process_error("{\"args\":[\"a\"],\"cwd\":\"rel\"}",
                       "process.json: cwd: \"rel\" is not an absolute path");
  expect_process_error("{\"args\":[\"a\"],\"cwd\":\"/\",\"capabilities\":{\"bounding\":[\"CAP_X\"]}}",
                       "process.json: capabilities.bounding[0]: unknown capability \"CAP_X\"");
  expect_process_error("[]", "process.json: expected a JSON object");
}

int main(void) {
  size_t n = ARRAY_SIZE(cases);
  struct CMUnitTest *tests = xcalloc(n + 16, sizeof *tests);
  size_t t = 0;
  tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_base_is_valid);
  tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_load_bad_json);
  tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_load_truncated);
  tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_load_duplicate_key);
  tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_load_not_object);
  tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_load_semantic_error_names_file);
  tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_load_missing_file);
  tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_process_json_errors);
  char **names = xcalloc(n, sizeof *names);
  for (size_t i = 0; i < n; i++) {
    names[i] = xasprintf("error %02zu %s", i, cases[i].path);
    tests[t++] = (struct CMUnitTest){names[i], run_case, NULL, NULL, (void *)&cases[i]};
  }
  int failed = _cmocka_run_group_tests("spec-errors", tests, t, NULL, NULL);
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  free(tests);
  return failed;
}
