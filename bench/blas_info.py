"""Which BLAS kernel NumPy runs: threadpoolctl where it is installed, otherwise OpenBLAS's own
openblas_get_corename through ctypes on the library NumPy loaded, otherwise np.show_config()'s
name of the library (without the kernel). Shared by lsvi_numpy.py and lsvi_numba.py."""
import ctypes
import os

import numpy as np


def blas_info():
    np.dot(np.ones((8, 8)), np.ones((8, 8)))  # make sure the BLAS library is loaded
    try:
        import threadpoolctl

        for i in threadpoolctl.threadpool_info():
            if i.get("user_api") == "blas":
                return {
                    "blasCore": str(i.get("architecture")),
                    "blasLibrary": f"{i.get('internal_api')} {i.get('version')}",
                    "blasCoreFrom": "threadpoolctl",
                }
    except ImportError:
        pass
    paths = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if path.startswith("/") and "blas" in os.path.basename(path).lower() and path not in paths:
                paths.append(path)
    for path in paths:
        lib = ctypes.CDLL(path)
        for name in ("openblas_get_corename", "openblas_get_corename64_", "scipy_openblas_get_corename64_",
                     "scipy_openblas_get_corename"):
            fn = getattr(lib, name, None)
            if fn is None:
                continue
            fn.restype = ctypes.c_char_p
            config = getattr(lib, name.replace("corename", "config"), None)
            library = os.path.basename(path)
            if config is not None:
                config.restype = ctypes.c_char_p
                library = config().decode()
            return {"blasCore": fn().decode(), "blasLibrary": library, "blasCoreFrom": f"{name} (ctypes)"}
    try:
        deps = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return {"blasCore": "unknown", "blasLibrary": f"{deps.get('name')} {deps.get('version')}", "blasCoreFrom": "np.show_config"}
    except Exception:  # older NumPy: show_config prints only
        return {"blasCore": "unknown", "blasLibrary": "unknown", "blasCoreFrom": "none"}
