/* What this host can do: kernel probes through seccomp(2) itself, and the "seccomp"
 * member of features.json built from them. */
#include "seccomp/seccomp.h"
#include "seccomp/seccomp_internal.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/util.h"

static uint32_t kernel_actions;
static pthread_once_t kernel_actions_once = PTHREAD_ONCE_INIT;

static void probe_actions(void) {
  uint32_t mask = 0;
  for (int a = BRICK_SCMP_KILL; a <= BRICK_SCMP_NOTIFY; a++) {
    uint32_t ret = seccomp_action_kernel_ret((enum brick_seccomp_action)a);
    if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &ret) == 0)
      mask |= 1u << a;
  }
  kernel_actions = mask;
}

uint32_t seccomp_kernel_actions(void) {
  pthread_once(&kernel_actions_once, probe_actions);
  return kernel_actions;
}

/* A NULL program makes seccomp(2) fail with EFAULT once it has accepted the flags, and
 * with EINVAL when it does not know one: the probe installs nothing. */
bool seccomp_kernel_flag_supported(unsigned int flag) {
  unsigned int probe = flag;
  if (flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
    probe |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  int saved = errno;
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, probe, NULL);
  bool ok = r < 0 && errno == EFAULT;
  errno = saved;
  return ok;
}

json_t *brick_seccomp_features(void) {
  json_t *o = json_object();
  json_object_set_new(o, "enabled", json_true());

  json_t *actions = json_array();
  uint32_t avail = seccomp_kernel_actions();
  for (int a = BRICK_SCMP_KILL; a <= BRICK_SCMP_NOTIFY; a++)
    if (avail & (1u << a))
      json_array_append_new(actions, json_string(seccomp_action_name((enum brick_seccomp_action)a)));
  json_object_set_new(o, "actions", actions);

  json_t *ops = json_array();
  for (int op = BRICK_SCMP_CMP_NE; op <= BRICK_SCMP_CMP_MASKED_EQ; op++)
    json_array_append_new(ops, json_string(seccomp_op_name((enum brick_seccomp_op)op)));
  json_object_set_new(o, "operators", ops);

  json_t *archs = json_array();
  for (size_t i = 0; i < seccomp_arch_count(); i++)
    json_array_append_new(archs, json_string(seccomp_arch_name_at(i)));
  json_object_set_new(o, "archs", archs);

  json_t *known = json_array(), *supported = json_array();
  for (size_t i = 0; i < seccomp_n_known_flags; i++) {
    json_array_append_new(known, json_string(seccomp_known_flags[i].name));
    if (seccomp_kernel_flag_supported(seccomp_known_flags[i].flag))
      json_array_append_new(supported, json_string(seccomp_known_flags[i].name));
  }
  json_object_set_new(o, "knownFlags", known);
  json_object_set_new(o, "supportedFlags", supported);
  return o;
}
