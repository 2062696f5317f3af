/* aio-fiber-switch-x86_64.S: fiber context switch for x86-64 (System V ABI)
 *
 * Copyright 2026 The aio-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * This file is always part of the build; it assembles to nothing on other
 * architectures.  aio-fiber.c uses it unless AIO_FIBER_UCONTEXT is set.
 *
 *   void aio_fiber_switch_context (gpointer *save_sp,   (%rdi)
 *                                  gpointer  new_sp);   (%rsi)
 *
 * Pushes the callee-saved registers of the System V ABI (rbp, rbx,
 * r12-r15) and the floating point control state (x87 control word and
 * MXCSR) on the current stack, stores the stack pointer in *save_sp, loads
 * new_sp and pops the same things off the new stack, then returns into
 * whatever called aio_fiber_switch_context() on that stack.  Everything
 * else is caller-saved, so the C compiler has already spilled what it needs.
 * The signal mask is not touched (no system call).
 *
 * A frame, from the saved stack pointer upwards (64 bytes; aio-fiber.c
 * builds the first one of each fiber by hand and must agree):
 *
 *    0  x87 control word (2 bytes), 2 bytes unused, MXCSR (4 bytes)
 *    8  r15
 *   16  r14
 *   24  r13      first frame: the C function to call
 *   32  r12      first frame: its argument (the AioFiber)
 *   40  rbx
 *   48  rbp      first frame: 0 (ends the frame pointer chain)
 *   56  return address      first frame: aio_fiber_trampoline
 *
 * The unwind info below describes the saved registers relative to the
 * CFA, which is right for either stack since both hold the same layout.
 *
 * Shadow stacks (CET SHSTK) cannot follow a switch done with a plain
 * "ret", so this file only claims IBT in its property note: linking it
 * into an object that asks for SHSTK turns SHSTK off for that object,
 * which is the truth.
 */

#if defined(__x86_64__) && defined(__ELF__)

#if defined(__CET__) && (__CET__ & 1)
# define AIO_ENDBR endbr64
#else
# define AIO_ENDBR
#endif

	.text

	.p2align 4
	.globl	aio_fiber_switch_context
	.hidden	aio_fiber_switch_context
	.type	aio_fiber_switch_context, @function
aio_fiber_switch_context:
	.cfi_startproc
	AIO_ENDBR
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbp, 0
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbx, 0
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r12, 0
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r13, 0
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r14, 0
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r15, 0
	subq	$8, %rsp
	.cfi_adjust_cfa_offset 8
	fnstcw	(%rsp)
	stmxcsr	4(%rsp)

	/* Switch stacks. */
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp

	fldcw	(%rsp)
	ldmxcsr	4(%rsp)
	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	popq	%r15
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r15
	popq	%r14
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r14
	popq	%r13
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r13
	popq	%r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r12
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbx
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbp
	ret
	.cfi_endproc
	.size	aio_fiber_switch_context, .-aio_fiber_switch_context

/* The first switch into a fiber "returns" here, with %rsp 16-byte aligned
 * at the top of the fiber's stack.  Calls r13 (r12); that function never
 * returns (it switches away for good), hence the trap after the call.  The
 * unwind info marks the end of the fiber's call chain. */
	.p2align 4
	.globl	aio_fiber_trampoline
	.hidden	aio_fiber_trampoline
	.type	aio_fiber_trampoline, @function
aio_fiber_trampoline:
	.cfi_startproc
	.cfi_undefined %rip
	AIO_ENDBR
	movq	%r12, %rdi
	call	*%r13
	ud2
	.cfi_endproc
	.size	aio_fiber_trampoline, .-aio_fiber_trampoline

#if defined(__CET__) && (__CET__ & 1)
	/* GNU_PROPERTY_X86_FEATURE_1_AND: IBT only (see above). */
	.section .note.gnu.property, "a"
	.p2align 3
	.long	4		/* name size ("GNU\0") */
	.long	16		/* descriptor size */
	.long	5		/* NT_GNU_PROPERTY_TYPE_0 */
	.asciz	"GNU"
	.long	0xc0000002	/* GNU_PROPERTY_X86_FEATURE_1_AND */
	.long	4		/* data size */
	.long	1		/* GNU_PROPERTY_X86_FEATURE_1_IBT */
	.p2align 3
#endif

#endif /* __x86_64__ && __ELF__ */

#if defined(__ELF__)
	.section .note.GNU-stack, "", %progbits
#endif
