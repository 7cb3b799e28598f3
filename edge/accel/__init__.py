"""Emulated Huawei Ascend accelerator: device profiles, an ONNX cost model and a simulation-time scheduler.

Why it exists: inference runs for real in onnxruntime on the host, but its result is released to a truck at
`t_frame + emulated latency` on the truck's chip. This package turns an ONNX graph and a device profile
(`edge/devices/*.toml`) into that latency, and shares a device between jobs in simulation time. Everything it
reports is emulated, and says so.
"""

import importlib
from typing import Any

# ``providers`` is both a submodule and its function; importing the submodule here binds the name to the function
# for good (a later ``import edge.accel.providers`` would otherwise leave the module under it). Light: onnxruntime
# loads only when asked.
from edge.accel.providers import ProviderError as ProviderError
from edge.accel.providers import providers as providers
from edge.accel.providers import select_provider as select_provider

# Name -> the submodule that defines it, imported on first use: the cost model brings onnx, which a run without
# an emulated chip should not wait for at start.
_WHERE = {
    "BackgroundTask": "background", "periodic_jobs": "background", "shipped_tasks": "background",
    "ModelCost": "cost", "NodeCost": "cost", "model_cost": "cost", "profile_table": "cost",
    "GraphError": "errors",
    "DeviceError": "profile", "DeviceProfile": "profile", "available_devices": "profile", "load_profile": "profile",
    "DeviceScheduler": "scheduler", "Job": "scheduler", "JobResult": "scheduler", "Stats": "scheduler",
}

__all__ = sorted([*_WHERE, "ProviderError", "providers", "select_provider"])


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'edge.accel' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"edge.accel.{where}"), name)
    globals()[name] = value
    return value
