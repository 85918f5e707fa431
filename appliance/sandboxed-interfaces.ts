import os from 'node:os';

/**
 * turnpike.service denies the appliance netlink sockets (RestrictAddressFamilies=AF_INET AF_INET6
 * AF_UNIX): the internet-facing process has no business with the kernel's routing and firewall
 * interfaces. Without netlink, `os.networkInterfaces()` throws, and fastify calls it when the
 * portal listens on 0.0.0.0 — only to log each address — inside the 'listening' event, where the
 * throw ends the process. Under that sandbox the interface list reads as empty instead; any other
 * failure still throws. packaging/system.test.ts starts the unit under a booted systemd.
 */
export function tolerateDeniedInterfaceList(): void {
  const list = os.networkInterfaces;
  if ((list as { tolerant?: boolean }).tolerant) return;
  const tolerant = (): ReturnType<typeof os.networkInterfaces> => {
    try {
      return list();
    } catch (err) {
      if (isDeniedInterfaceList(err)) return {};
      throw err;
    }
  };
  Object.assign(tolerant, { tolerant: true });
  os.networkInterfaces = tolerant;
}

function isDeniedInterfaceList(err: unknown): boolean {
  const { code, syscall } = (err ?? {}) as { code?: unknown; syscall?: unknown };
  return code === 'ERR_SYSTEM_ERROR' && syscall === 'uv_interface_addresses';
}
