"""What runs on each truck: the range sensor, perception models (onnxruntime), the emulated accelerator, safety."""
