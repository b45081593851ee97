// Workaround for a QEMU-TCG nested-SVM emulation artifact: QEMU's I/O-bitmap check (helper_check_io) demands
// TR type 9 (available TSS) and raises #GP for type 11 (busy), which real CPUs hold in TR after LTR.
// We rewrite TR type 11->9 on the way into the VMCB (svm_set_segment) and 9->11 on the way out (svm_get_segment),
// so userspace (Tern) sees real-hardware semantics while the emulated L2 gets an I/O-capable TR.
#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/kvm_host.h>

static atomic_t set_fixes = ATOMIC_INIT(0), get_fixes = ATOMIC_INIT(0);

static int set_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct kvm_segment *var = (struct kvm_segment *)regs->si;
	if ((int)regs->dx == VCPU_SREG_TR && var->type == 11) { var->type = 9; atomic_inc(&set_fixes); }
	return 0;
}
static struct kprobe kp_set = { .symbol_name = "svm_set_segment", .pre_handler = set_pre };

struct getdata { struct kvm_segment *var; int seg; };
static int get_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct getdata *d = (struct getdata *)ri->data;
	d->var = (struct kvm_segment *)regs->si; d->seg = (int)regs->dx;
	return 0;
}
static int get_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct getdata *d = (struct getdata *)ri->data;
	if (d->seg == VCPU_SREG_TR && d->var->type == 9) { d->var->type = 11; atomic_inc(&get_fixes); }
	return 0;
}
static struct kretprobe krp_get = { .kp.symbol_name = "svm_get_segment", .entry_handler = get_entry,
	.handler = get_ret, .data_size = sizeof(struct getdata), .maxactive = 64 };

static int __init trfix_init(void)
{
	int r = register_kprobe(&kp_set);
	if (r) { pr_err("trfix: kprobe svm_set_segment: %d\n", r); return r; }
	r = register_kretprobe(&krp_get);
	if (r) { pr_err("trfix: kretprobe svm_get_segment: %d\n", r); unregister_kprobe(&kp_set); return r; }
	pr_info("trfix: loaded\n");
	return 0;
}
static void __exit trfix_exit(void)
{
	unregister_kretprobe(&krp_get); unregister_kprobe(&kp_set);
	pr_info("trfix: set fixes %d get fixes %d\n", atomic_read(&set_fixes), atomic_read(&get_fixes));
}
module_init(trfix_init); module_exit(trfix_exit);
MODULE_LICENSE("GPL");
