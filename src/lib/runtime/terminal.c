#include "runtime/terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <termios.h>
#include <unistd.h>

#include "core/sys.h"
#include "core/util.h"
#include "runtime/sync.h"

int brick_terminal_attach(int console_sock, const struct brick_console_size *size,
                          bool bind_console, brick_err *err) {
  _cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return brick_errno(err, "open /dev/ptmx");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
    return brick_errno(err, "unlock pty");
  /* TIOCGPTPEER opens the slave through the master, never by a path the container
   * could have replaced. */
  _cleanup_close_ int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return brick_errno(err, "open pty peer");
  if (size && size->present) {
    struct winsize ws = {.ws_row = (unsigned short)size->height,
                         .ws_col = (unsigned short)size->width};
    if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
      return brick_errno(err, "process.consoleSize");
  }
  if (bind_console) {
    char src[64];
    snprintf(src, sizeof src, "/proc/self/fd/%d", slave);
    int cfd = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (cfd >= 0) {
      close(cfd);
      if (brick_sys->mount(src, "/dev/console", NULL, MS_BIND, NULL) < 0)
        return brick_errno(err, "bind /dev/console");
    }
  }
  if (brick_send_fd(console_sock, master, "console", 7, err) < 0)
    return brick_error_prefix(err, "console socket");
  if (setsid() < 0 && errno != EPERM)
    return brick_errno(err, "setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0)
    return brick_errno(err, "set controlling terminal");
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0)
      return brick_errno(err, "dup pty to fd %d", fd);
  return 0;
}
