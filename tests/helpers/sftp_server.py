"""A real SFTP server on 127.0.0.1 for tests (paramiko's server side): password login for one
user, files under one folder. Real SSH and SFTP on the wire, so the export destination is tested
against the protocol, not a stand-in."""
from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import paramiko
from paramiko.sftp import SFTP_NO_SUCH_FILE, SFTP_OK, SFTP_PERMISSION_DENIED


class _Server(paramiko.ServerInterface):
    def __init__(self, username: str, password: str):
        self.username, self.password = username, password

    def check_auth_password(self, username, password):
        ok = username == self.username and password == self.password
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def get_allowed_auths(self, username):
        return "password"

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class _Handle(paramiko.SFTPHandle):
    pass


def _sftp_interface(root: Path):
    class Folder(paramiko.SFTPServerInterface):
        def _real(self, path: str) -> Path:
            resolved = (root / path.lstrip("/")).resolve()
            if root.resolve() not in (resolved, *resolved.parents):
                raise PermissionError(path)
            return resolved

        def canonicalize(self, path):
            return "/" + str(self._real(path).relative_to(root.resolve()))

        def stat(self, path):
            try:
                return paramiko.SFTPAttributes.from_stat(os.stat(self._real(path)))
            except (OSError, PermissionError):
                return SFTP_NO_SUCH_FILE

        lstat = stat

        def open(self, path, flags, attr):
            try:
                real = self._real(path)
                fd = os.open(real, flags, 0o644)
                mode = "wb" if flags & os.O_WRONLY else ("r+b" if flags & os.O_RDWR else "rb")
                handle = _Handle(flags)
                handle.filename = str(real)
                f = os.fdopen(fd, mode)
                handle.readfile = f if "r" in mode or "+" in mode else None
                handle.writefile = f if "w" in mode or "+" in mode else None
                return handle
            except PermissionError:
                return SFTP_PERMISSION_DENIED
            except OSError:
                return SFTP_NO_SUCH_FILE

        def remove(self, path):
            try:
                os.remove(self._real(path))
                return SFTP_OK
            except OSError:
                return SFTP_NO_SUCH_FILE

        def rename(self, oldpath, newpath):
            if self._real(newpath).exists():
                return paramiko.sftp.SFTP_FAILURE
            os.rename(self._real(oldpath), self._real(newpath))
            return SFTP_OK

        def posix_rename(self, oldpath, newpath):
            os.replace(self._real(oldpath), self._real(newpath))
            return SFTP_OK

        def list_folder(self, path):
            real = self._real(path)
            return [paramiko.SFTPAttributes.from_stat(os.stat(real / name), name) for name in os.listdir(real)]

    return Folder


class SftpServer:
    def __init__(self, root: Path, username: str = "billing", password: str = "s3cret-Pass"):
        self.root, self.username, self.password = root, username, password
        self.key = paramiko.ECDSAKey.generate()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def host_key(self) -> str:
        return f"{self.key.get_name()} {self.key.get_base64()}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.sock.close()

    def _serve(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        transport = paramiko.Transport(conn)
        transport.add_server_key(self.key)
        transport.set_subsystem_handler("sftp", paramiko.SFTPServer, _sftp_interface(self.root))
        try:
            transport.start_server(server=_Server(self.username, self.password))
            channel = transport.accept(10)
            if channel is None:
                return
            while transport.is_active() and not self.stopped.is_set():
                self.stopped.wait(0.05)
        finally:
            transport.close()
