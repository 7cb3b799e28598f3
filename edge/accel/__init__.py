"""Emulated Huawei Ascend accelerator: device profiles, an ONNX cost model and a simulation-time scheduler.

Why it exists: inference runs for real in onnxruntime on the host, but its result is released to a truck at
`t_frame + emulated latency` on the truck's chip. This package turns an ONNX graph and a device profile
(`edge/devices/*.toml`) into that latency, and shares a device between jobs in simulation time. Everything it
reports is emulated, and says so.
"""

from edge.accel.background import BackgroundTask, periodic_jobs, shipped_tasks
from edge.accel.cost import ModelCost, NodeCost, model_cost, profile_table
from edge.accel.graph import GraphError
from edge.accel.profile import DeviceError, DeviceProfile, available_devices, load_profile
from edge.accel.providers import ProviderError, providers, select_provider
from edge.accel.scheduler import DeviceScheduler, Job, JobResult, Stats

__all__ = [
    "BackgroundTask", "DeviceError", "DeviceProfile", "DeviceScheduler", "GraphError", "Job", "JobResult",
    "ModelCost", "NodeCost", "ProviderError", "Stats", "available_devices", "load_profile", "model_cost",
    "periodic_jobs", "profile_table", "providers", "select_provider", "shipped_tasks",
]
