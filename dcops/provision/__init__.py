"""Out-of-band bare-metal provisioning: a persisted per-host state machine (workflow), the steps
(discover, accept, pool, firmware, BIOS, RAID, OS install, post-install playbooks, verify,
production network), and the runner with concurrency limits, resume, retry, skip and abort.
See docs/provision.md."""
