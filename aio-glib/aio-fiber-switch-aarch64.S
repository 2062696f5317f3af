/* aio-fiber-switch-aarch64.S: fiber context switch for AArch64 (AAPCS64)
 *
 * Copyright 2026 The aio-glib authors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * This file is always part of the build; it assembles to nothing on other
 * architectures.  aio-fiber.c uses it unless AIO_FIBER_UCONTEXT is set.
 *
 *   void aio_fiber_switch_context (gpointer *save_sp,   (x0)
 *                                  gpointer  new_sp);   (x1)
 *
 * Stores the callee-saved registers of AAPCS64 (x19-x28, the frame
 * pointer x29, the link register x30 and the low halves d8-d15 of v8-v15)
 * and the floating point control register FPCR on the current stack,
 * stores the stack pointer in *save_sp, loads new_sp and reloads the same
 * things from the new stack, then returns through the reloaded x30.
 * Everything else is caller-saved.  No system call.
 *
 * A frame, from the saved stack pointer upwards (176 bytes; aio-fiber.c
 * builds the first one of each fiber by hand and must agree):
 *
 *     0  x19     first frame: the argument (the AioFiber)
 *     8  x20     first frame: the C function to call
 *    16  x21 .. 72 x28
 *    80  x29     first frame: 0 (ends the frame record chain)
 *    88  x30     first frame: aio_fiber_trampoline
 *    96  d8  .. 152 d15
 *   160  FPCR    (8 bytes, then 8 bytes of padding)
 *
 * FPCR is only written when it differs, as writing it can be slow.
 *
 * Branch protection: the entry points start with "bti c" (a NOP where BTI
 * is not implemented); the trampoline is only reached through "ret", which
 * BTI does not check.  x30 is saved and restored as it is: whatever the C
 * callers signed with PAC they authenticate themselves.
 */

#if defined(__aarch64__) && defined(__ELF__)

#if defined(__ARM_FEATURE_BTI_DEFAULT) && __ARM_FEATURE_BTI_DEFAULT
# define AIO_BTI_C hint #34
#else
# define AIO_BTI_C
#endif

	.text

	.p2align 4
	.globl	aio_fiber_switch_context
	.hidden	aio_fiber_switch_context
	.type	aio_fiber_switch_context, %function
aio_fiber_switch_context:
	.cfi_startproc
	AIO_BTI_C
	sub	sp, sp, #176
	.cfi_def_cfa_offset 176
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	.cfi_offset x19, -176
	.cfi_offset x20, -168
	.cfi_offset x21, -160
	.cfi_offset x22, -152
	.cfi_offset x23, -144
	.cfi_offset x24, -136
	.cfi_offset x25, -128
	.cfi_offset x26, -120
	.cfi_offset x27, -112
	.cfi_offset x28, -104
	.cfi_offset x29, -96
	.cfi_offset x30, -88
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	.cfi_offset d8, -80
	.cfi_offset d9, -72
	.cfi_offset d10, -64
	.cfi_offset d11, -56
	.cfi_offset d12, -48
	.cfi_offset d13, -40
	.cfi_offset d14, -32
	.cfi_offset d15, -24
	mrs	x9, fpcr
	str	x9, [sp, #160]

	/* Switch stacks. */
	mov	x10, sp
	str	x10, [x0]
	mov	sp, x1

	ldr	x10, [sp, #160]
	cmp	x9, x10
	b.eq	1f
	msr	fpcr, x10
1:
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	add	sp, sp, #176
	.cfi_def_cfa_offset 0
	.cfi_restore x19
	.cfi_restore x20
	.cfi_restore x21
	.cfi_restore x22
	.cfi_restore x23
	.cfi_restore x24
	.cfi_restore x25
	.cfi_restore x26
	.cfi_restore x27
	.cfi_restore x28
	.cfi_restore x29
	.cfi_restore x30
	.cfi_restore d8
	.cfi_restore d9
	.cfi_restore d10
	.cfi_restore d11
	.cfi_restore d12
	.cfi_restore d13
	.cfi_restore d14
	.cfi_restore d15
	ret
	.cfi_endproc
	.size	aio_fiber_switch_context, .-aio_fiber_switch_context

/* The first switch into a fiber "returns" here, with sp 16-byte aligned at
 * the top of the fiber's stack.  Calls x20 (x19); that function never
 * returns (it switches away for good), hence the trap after the call.  The
 * unwind info marks the end of the fiber's call chain. */
	.p2align 4
	.globl	aio_fiber_trampoline
	.hidden	aio_fiber_trampoline
	.type	aio_fiber_trampoline, %function
aio_fiber_trampoline:
	.cfi_startproc
	.cfi_undefined x30
	AIO_BTI_C
	mov	x0, x19
	blr	x20
	brk	#1000
	.cfi_endproc
	.size	aio_fiber_trampoline, .-aio_fiber_trampoline

#if (defined(__ARM_FEATURE_BTI_DEFAULT) && __ARM_FEATURE_BTI_DEFAULT) || \
    (defined(__ARM_FEATURE_PAC_DEFAULT) && __ARM_FEATURE_PAC_DEFAULT)
	/* GNU_PROPERTY_AARCH64_FEATURE_1_AND: BTI and PAC as the C code is
	 * built with; both are honoured above. */
	.section .note.gnu.property, "a"
	.p2align 3
	.long	4		/* name size ("GNU\0") */
	.long	16		/* descriptor size */
	.long	5		/* NT_GNU_PROPERTY_TYPE_0 */
	.asciz	"GNU"
	.long	0xc0000000	/* GNU_PROPERTY_AARCH64_FEATURE_1_AND */
	.long	4		/* data size */
# if defined(__ARM_FEATURE_BTI_DEFAULT) && __ARM_FEATURE_BTI_DEFAULT && \
     defined(__ARM_FEATURE_PAC_DEFAULT) && __ARM_FEATURE_PAC_DEFAULT
	.long	3		/* BTI | PAC */
# elif defined(__ARM_FEATURE_BTI_DEFAULT) && __ARM_FEATURE_BTI_DEFAULT
	.long	1		/* BTI */
# else
	.long	2		/* PAC */
# endif
	.p2align 3
#endif

#endif /* __aarch64__ && __ELF__ */

#if defined(__ELF__)
	.section .note.GNU-stack, "", %progbits
#endif
