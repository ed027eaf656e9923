"""fp16 variant of an exported detector graph, for the GPU path.

PyTorch 1.13 cannot run fp16 convolutions on the CPU, so the model cannot be traced in half
precision here; instead the fp32 graph is rewritten. The input and the network body (everything up to
the Detect convolutions) become fp16, as a YOLOv5 --half export, so the runtime feeds float16
(server/src/pipeline/detect.ts). The box decoding and the output stay fp32, because cx and cy
reach 1280 px where fp16 steps by 1 px; the runtime reads either output type.
"""
from __future__ import annotations

from typing import Dict, List, Sequence, Set

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# Inputs that ONNX requires to stay float32 whatever the data type (Resize's roi and scales).
FP32_ONLY_INPUTS: Dict[str, Set[int]] = {"Resize": {1, 2}}


def ancestors(nodes: Sequence[onnx.NodeProto], outputs: Sequence[str]) -> Set[int]:
    producer = {name: i for i, node in enumerate(nodes) for name in node.output}
    seen: Set[int] = set()
    stack = [producer[o] for o in outputs]
    while stack:
        i = stack.pop()
        if i in seen:
            continue
        seen.add(i)
        stack.extend(producer[name] for name in nodes[i].input if name in producer)
    return seen


def _to_fp16(tensor: TensorProto) -> TensorProto:
    return numpy_helper.from_array(numpy_helper.to_array(tensor).astype(np.float16), tensor.name)


def convert_body_to_fp16(model: onnx.ModelProto, body_outputs: Sequence[str]) -> onnx.ModelProto:
    graph = model.graph
    nodes = list(graph.node)
    body = ancestors(nodes, body_outputs)
    initializers = {t.name: t for t in graph.initializer if t.data_type == TensorProto.FLOAT}
    constants = {
        node.output[0]: node
        for node in nodes
        if node.op_type == "Constant" and node.attribute[0].t.data_type == TensorProto.FLOAT
    }

    to_convert: Set[str] = set()
    keep_fp32: Set[str] = set()
    for i, node in enumerate(nodes):
        kept_slots = FP32_ONLY_INPUTS.get(node.op_type, set())
        for slot, name in enumerate(node.input):
            if name in initializers or name in constants:
                in_body = i in body and slot not in kept_slots
                (to_convert if in_body else keep_fp32).add(name)
    shared = to_convert & keep_fp32
    if shared:
        raise ValueError(f"tensors used in both fp16 and fp32 parts of the graph: {sorted(shared)}")

    for name in to_convert:
        if name in initializers:
            initializers[name].CopyFrom(_to_fp16(initializers[name]))
        else:
            attribute = constants[name].attribute[0]
            attribute.t.CopyFrom(_to_fp16(attribute.t))

    graph.input[0].type.tensor_type.elem_type = TensorProto.FLOAT16
    renamed_outputs = {o: f"{o}_fp32" for o in body_outputs}
    rewritten: List[onnx.NodeProto] = []
    for i, node in enumerate(nodes):
        if i not in body:
            for slot, name in enumerate(node.input):
                if name in renamed_outputs:
                    node.input[slot] = renamed_outputs[name]
        rewritten.append(node)
        rewritten.extend(
            helper.make_node("Cast", [out], [renamed_outputs[out]], to=TensorProto.FLOAT)
            for out in node.output
            if out in renamed_outputs
        )
    del graph.node[:]
    graph.node.extend(rewritten)
    # Intermediate type annotations from the fp32 export would now contradict the graph.
    del graph.value_info[:]
    onnx.checker.check_model(model)
    return model
