/* SPDX-License-Identifier: GPL-2.0-or-later */
/* noop.c: the program execload runs: static, no libc start-up, exits 0 at once, so that
 * an exec of it costs the kernel's exec path and nothing else. */

#if defined(__x86_64__)
__attribute__((noreturn)) void _start(void);

__attribute__((noreturn)) void _start(void) {
        __asm__ volatile("mov $60, %eax\n\txor %edi, %edi\n\tsyscall");
        __builtin_unreachable();
}
#else
#error "noop.c: add this architecture's exit system call"
#endif
