# SPDX-License-Identifier: Apache-2.0
# grub_standins DIR: grub-probe and grub-mkrelpath in DIR, standing in for
# grub-mkconfig's hooks (grub_probe, grub_mkrelpath): GRUB's device probing
# needs a real disk, and these answer for a plain /dev/sda1.  Sourced by
# packaging/tests/debian_control.sh and packaging/tests/packages.sh.
grub_standins() {
	cat >"$1/grub-probe" <<'EOF'
#!/bin/sh
for a; do
	case $a in
	--target=device) echo /dev/sda1 ;;
	--target=partmap) echo msdos ;;
	--target=fs) echo ext2 ;;
	--target=fs_uuid) echo 0123-4567 ;;
	--target=compatibility_hint|--target=bios_hints|--target=baremetal_hints) echo hd0,msdos1 ;;
	esac
done
EOF
	printf '#!/bin/sh\necho "$1"\n' >"$1/grub-mkrelpath"
	chmod +x "$1/grub-probe" "$1/grub-mkrelpath"
}
