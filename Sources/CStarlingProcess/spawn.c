#define _GNU_SOURCE
#include "CStarlingProcess.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

// Everything below runs between fork and exec (or in the watchdog, which never execs) of a multi-threaded
// parent, so it uses only async-signal-safe calls and raw system calls: no malloc, no stdio.

/// Marks every descriptor from `first` up close-on-exec, so that exec leaves only 0, 1 and 2 (and whatever the
/// caller dup2'd there) while the error pipe still works until exec.
static void cloexec_from(int first) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
#endif
    struct rlimit rl;
    long max = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) max = (long)rl.rlim_cur;
    if (max > (1L << 20)) max = 1L << 20;
    for (long fd = first; fd < max; fd++) {
        int flags = fcntl((int)fd, F_GETFD);
        if (flags >= 0) fcntl((int)fd, F_SETFD, flags | FD_CLOEXEC);
    }
}

/// Closes descriptors `first` to `last` (-1: all above `first`).
static void close_from_to(int first, int last) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)first, last < 0 ? ~0U : (unsigned)last, 0) == 0) return;
#endif
    struct rlimit rl;
    long max = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) max = (long)rl.rlim_cur;
    if (max > (1L << 20)) max = 1L << 20;
    if (last >= 0 && last + 1 < max) max = last + 1;
    for (long fd = first; fd < max; fd++) close((int)fd);
}

static void report_and_exit(int fd) {
    int e = errno;
    (void)!write(fd, &e, sizeof(e));
    _exit(127);
}

/// pipe2(O_CLOEXEC) then fork: the pid (0 in the child), or -errno with the pipe closed.
static pid_t fork_with_pipe(int pipefd[2]) {
    if (pipe2(pipefd, O_CLOEXEC) != 0) return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(pipefd[0]);
        close(pipefd[1]);
        return -e;
    }
    return pid;
}

pid_t starling_spawn(const char *path, char *const argv[], char *const envp[], int log_fd, const char *cwd,
                     int cgroup_procs_fd) {
    pid_t parent = getpid();
    int pipefd[2];
    pid_t pid = fork_with_pipe(pipefd);
    if (pid < 0) return pid;
    if (pid == 0) {
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        // Default dispositions for what the parent may ignore, so the server sees SIGPIPE and SIGTERM as usual.
        signal(SIGPIPE, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        // Join the pod's cgroup before anything else runs, so every descendant is born inside it.
        if (cgroup_procs_fd >= 0 && write(cgroup_procs_fd, "0", 1) != 1) report_and_exit(pipefd[1]);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) { dup2(devnull, 0); }
        if (log_fd >= 0) { dup2(log_fd, 1); dup2(log_fd, 2); }
        cloexec_from(3);
        if (cwd != NULL && chdir(cwd) != 0) report_and_exit(pipefd[1]);
        execve(path, argv, envp);
        report_and_exit(pipefd[1]);
    }
    close(pipefd[1]);
    int child_errno = 0;
    ssize_t n;
    do { n = read(pipefd[0], &child_errno, sizeof(child_errno)); } while (n < 0 && errno == EINTR);
    close(pipefd[0]);
    if (n == sizeof(child_errno)) {
        int status;
        waitpid(pid, &status, 0);
        return -child_errno;
    }
    return pid;
}

int starling_try_wait(pid_t pid, int *exit_code, int *signal_number) {
    int status = 0;
    pid_t r;
    do { r = waitpid(pid, &status, WNOHANG); } while (r < 0 && errno == EINTR);
    if (r < 0) return -errno;
    if (r == 0) return 0;
    *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    *signal_number = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    return r;
}

int starling_kill_group(pid_t pgid, int sig) {
    if (kill(-pgid, sig) != 0) return -errno;
    return 0;
}

// MARK: Finding a pod's processes by an environment entry

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/// Calls `visit` for each entry of the open directory `dir` (raw getdents64: no allocation, safe after fork).
static void for_each_entry(int dir, void (*visit)(const struct linux_dirent64 *entry, void *context), void *context) {
    char entries[8192];
    long n;
    while ((n = syscall(SYS_getdents64, dir, entries, sizeof(entries))) > 0) {
        for (long offset = 0; offset < n;) {
            const struct linux_dirent64 *d = (const struct linux_dirent64 *)(entries + offset);
            offset += d->d_reclen;
            visit(d, context);
        }
    }
}

/// "/proc/<pid>/environ" into `out` (at least 32 bytes).
static void environ_path(char *out, const char *pid_text) {
    const char *prefix = "/proc/";
    size_t i = 0;
    for (; prefix[i]; i++) out[i] = prefix[i];
    for (size_t j = 0; pid_text[j] && i < 20; j++) out[i++] = pid_text[j];
    const char *suffix = "/environ";
    for (size_t j = 0; suffix[j]; j++) out[i++] = suffix[j];
    out[i] = 0;
}

/// Whether the NUL-separated environment read from `fd` holds `tag` as one whole entry.
static int environment_has(int fd, const char *tag, size_t tag_length) {
    char buffer[4096];
    size_t position = 0;
    int matching = 1;
    ssize_t n;
    while ((n = read(fd, buffer, sizeof(buffer))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            char c = buffer[i];
            if (c == 0) {
                if (matching && position == tag_length) return 1;
                position = 0;
                matching = 1;
            } else if (matching && position < tag_length && tag[position] == c) {
                position++;
            } else {
                matching = 0;
            }
        }
    }
    return 0;
}

struct tagged_search {
    const char *tag;
    size_t tag_length;
    int sig;
    pid_t self;
    int signalled;
};

static void signal_if_tagged(const struct linux_dirent64 *d, void *context) {
    struct tagged_search *search = context;
    const char *name = d->d_name;
    if (name[0] < '1' || name[0] > '9') return;
    pid_t pid = 0;
    for (const char *p = name; *p; p++) {
        if (*p < '0' || *p > '9') return;
        pid = pid * 10 + (*p - '0');
    }
    if (pid == search->self) return;
    // Hold the process by a pidfd first: if the pid is reused after this, the signal fails instead of reaching the
    // new process, and the environment read below is the held process's or a newer one's.
    int pidfd = -1;
#ifdef SYS_pidfd_open
    pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
    char path[40];
    environ_path(path, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (pidfd >= 0) close(pidfd);
        return;
    }
    int tagged = environment_has(fd, search->tag, search->tag_length);
    close(fd);
    if (tagged) {
        int sent;
#ifdef SYS_pidfd_send_signal
        sent = pidfd >= 0 ? (int)syscall(SYS_pidfd_send_signal, pidfd, search->sig, NULL, 0) : kill(pid, search->sig);
#else
        sent = kill(pid, search->sig);
#endif
        if (sent == 0) search->signalled++;
    }
    if (pidfd >= 0) close(pidfd);
}

int starling_signal_tagged(const char *tag, int sig) {
    size_t tag_length = strlen(tag);
    if (tag_length == 0) return -EINVAL;
    int dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return -errno;
    struct tagged_search search = {tag, tag_length, sig, getpid(), 0};
    for_each_entry(dir, signal_if_tagged, &search);
    close(dir);
    return search.signalled;
}

// MARK: The watchdog

/// Path `base` + "/" + `name` into `out` of `size` bytes; 0 when it does not fit.
static int join_path(char *out, size_t size, const char *base, const char *name) {
    size_t i = 0;
    for (; base[i]; i++) {
        if (i + 1 >= size) return 0;
        out[i] = base[i];
    }
    if (i + 1 >= size) return 0;
    out[i++] = '/';
    for (size_t j = 0; name[j]; j++) {
        if (i + 1 >= size) return 0;
        out[i++] = name[j];
    }
    out[i] = 0;
    return 1;
}

struct child_removal {
    const char *root;
    int busy;
};

static void remove_child_cgroup(const struct linux_dirent64 *d, void *context) {
    struct child_removal *removal = context;
    char path[4096];
    if (d->d_type != DT_DIR || d->d_name[0] == '.') return;
    if (join_path(path, sizeof(path), removal->root, d->d_name) && rmdir(path) != 0 && errno == EBUSY) {
        removal->busy = 1;
    }
}

/// Kills every process in the cgroup tree at `root`, then removes its (now empty) child cgroups and itself.
static void kill_cgroup_tree(const char *root) {
    char path[4096];
    if (join_path(path, sizeof(path), root, "cgroup.kill")) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            (void)!write(fd, "1", 1);
            close(fd);
        }
    }
    struct timespec pause = {0, 20 * 1000 * 1000};
    for (int attempt = 0; attempt < 100; attempt++) {
        int dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0) return;
        struct child_removal removal = {root, 0};
        for_each_entry(dir, remove_child_cgroup, &removal);
        close(dir);
        if (!removal.busy) break;
        nanosleep(&pause, NULL);
    }
    rmdir(root);
}

pid_t starling_start_watchdog(const char *cgroup_root, const char *tag) {
    int pipefd[2];
    pid_t pid = fork_with_pipe(pipefd);
    if (pid < 0) return pid;
    if (pid == 0) {
        sigset_t all;
        sigfillset(&all);
        sigdelset(&all, SIGKILL);
        sigprocmask(SIG_SETMASK, &all, NULL);
        // Its own process group, so that signals meant for Starling's (a terminal's Ctrl-C) leave it running.
        setpgid(0, 0);
        close(pipefd[1]);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        // Every descriptor but the pipe: holding Starling's sockets would keep its ports after it died.
        int keep = pipefd[0];
        if (keep > 3) close_from_to(3, keep - 1);
        close_from_to(keep + 1, -1);
        char byte;
        ssize_t n;
        do { n = read(pipefd[0], &byte, 1); } while (n != 0 && (n > 0 || errno == EINTR));
        // Starling is gone: end every process its pods started. Two rounds catch a fork that was in flight.
        for (int round = 0; round < 2; round++) {
            if (cgroup_root != NULL) kill_cgroup_tree(cgroup_root);
            if (tag != NULL) starling_signal_tagged(tag, SIGKILL);
        }
        _exit(0);
    }
    close(pipefd[0]);
    // The write end stays open (close-on-exec) for the life of this process; its closing is the signal.
    return pid;
}
