"""YOLOv8 detectors run on onnxruntime at any input size, without Ultralytics or PyTorch at run time.

The weights we are given are ONNX files exported for one fixed 640x640 input (the COCO vehicle
model) or a PyTorch file (the plate model, exported to ONNX by `anpr models fetch`). A fixed input
spends 44 % of a 16:9 frame's detector time on letterbox padding, and the anchor grid baked into the
export ties it to that size. `cut_heads` keeps the network up to its six head convolutions (box
distributions and class logits at strides 8, 16 and 32), which are fully convolutional, and frees
the input's batch, height and width; `YoloHeads` decodes them as Ultralytics' Detect head does
(distribution focal loss expectation, anchor points at cell centres, sigmoid class scores) and
applies Ultralytics' per-class non-maximum suppression. A 1920x1080 frame is then read at 640x384.

The outputs match Ultralytics' own predictions on the same input size (tests/anpr/test_yolo.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

REG_MAX = 16  # bins of each box side's distance distribution (YOLOv8's Detect.reg_max)
STRIDES = (8, 16, 32)
PAD_VALUE = 114  # Ultralytics' letterbox grey


def cut_heads(source: Path, target: Path) -> None:
    """Write `target`: `source` (a YOLOv8 detect ONNX export) up to the head's last convolutions, with
    outputs box_8, cls_8, box_16, cls_16, box_32, cls_32 and a free batch, height and width. The
    export's metadata (class names) is kept; its date is dropped so that the file depends on the
    weights alone."""
    import onnx
    from onnx import helper

    model = onnx.load(str(source))
    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    weights = {w.name: w for w in graph.initializer}
    # The head's convolutions are the Conv nodes whose output is reshaped and concatenated across levels
    concat_inputs = {name for node in graph.node if node.op_type == "Concat" for name in node.input}
    heads = []
    for node in graph.node:
        if node.op_type != "Reshape" or node.output[0] not in concat_inputs:
            continue
        conv = producer.get(node.input[0])
        if conv is not None and conv.op_type == "Conv":
            heads.append((conv.output[0], int(weights[conv.input[1]].dims[0])))
    if len(heads) != 2 * len(STRIDES):
        raise ValueError(f"{source}: not a YOLOv8 detect export (found {len(heads)} head outputs, not 6)")
    boxes = [name for name, channels in heads if channels == 4 * REG_MAX]
    classes = [name for name, channels in heads if channels != 4 * REG_MAX]
    names = [f"{kind}_{stride}" for stride in STRIDES for kind in ("box", "cls")]
    wanted = [name for pair in zip(boxes, classes, strict=True) for name in pair]

    # keep only the nodes the wanted outputs depend on
    needed, stack = set(), list(wanted)
    while stack:
        node = producer.get(stack.pop())
        if node is None or id(node) in needed:
            continue
        needed.add(id(node))
        stack.extend(node.input)
    nodes = [node for node in graph.node if id(node) in needed]
    renamed = dict(zip(wanted, names, strict=True))
    for node in nodes:
        node.output[:] = [renamed.get(out, out) for out in node.output]
    used = {name for node in nodes for name in node.input}
    image = graph.input[0]
    channels = image.type.tensor_type.shape.dim[1].dim_value
    inputs = [
        helper.make_tensor_value_info(
            image.name, onnx.TensorProto.FLOAT, ["batch", channels, "height", "width"]
        )
    ]
    channels_of = dict(heads)
    outputs = [
        helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, ["batch", channels_of[out], None, None])
        for name, out in zip(names, wanted, strict=True)
    ]
    cut = helper.make_graph(
        nodes, graph.name, inputs, outputs, [w for w in graph.initializer if w.name in used]
    )
    result = helper.make_model(cut, opset_imports=model.opset_import, producer_name="anpr cut_heads")
    result.ir_version = model.ir_version
    kept = {p.key: p.value for p in model.metadata_props if p.key in ("names", "description", "license")}
    helper.set_model_props(result, kept)
    onnx.checker.check_model(result)
    target.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(result, str(target))


@dataclass(frozen=True)
class Letterbox:
    """How an image was fitted into the network's input: scaled by `scale`, then padded by `left`
    and `top` pixels (each side gets half the padding, as in Ultralytics)."""

    scale: float
    left: int
    top: int

    def to_image(self, xyxy: np.ndarray) -> np.ndarray:
        return (xyxy - np.array([self.left, self.top, self.left, self.top], np.float32)) / self.scale


def letterbox(image: np.ndarray, size: int, square: bool = False) -> tuple[np.ndarray, Letterbox]:
    """The image scaled so its longer side is `size`, padded to a multiple of 32 on each side (to
    size x size with `square`), as Ultralytics' LetterBox(auto=True / False) does."""
    height, width = image.shape[:2]
    scale = min(size / height, size / width)
    new_w, new_h = round(width * scale), round(height * scale)
    if square:
        out_w = out_h = size
    else:
        out_w, out_h = (-(-new_w // 32) * 32), (-(-new_h // 32) * 32)
    resized = (
        cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        if (new_w, new_h) != (width, height)
        else image
    )
    dw, dh = (out_w - new_w) / 2, (out_h - new_h) / 2
    top, bottom = round(dh - 0.1), round(dh + 0.1)
    left, right = round(dw - 0.1), round(dw + 0.1)
    padded = cv2.copyMakeBorder(
        resized, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3
    )
    return padded, Letterbox(scale, left, top)


def to_blob(images: list[np.ndarray]) -> np.ndarray:
    """BGR uint8 images of one size -> the network's RGB float input (N, 3, H, W) in 0..1."""
    batch = np.stack(images)[..., ::-1].transpose(0, 3, 1, 2)
    return np.ascontiguousarray(batch, dtype=np.float32) / 255.0


class YoloHeads:
    """A cut YOLOv8 ONNX (cut_heads) on onnxruntime: `detect(images)` -> for each image, boxes (xyxy in
    its own pixels), confidences and class ids. Images are letterboxed to `imgsz` on their longer
    side; all images of one call are fitted into the largest padded size among them and run as one
    batch."""

    def __init__(self, path: Path | str, threads: int | None = None):
        from anpr.onnx import session

        self.session = session(path, threads)
        self.input_name = self.session.get_inputs()[0].name
        self._anchors: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def detect(
        self,
        images: list[np.ndarray],
        imgsz: int,
        conf: float,
        iou: float = 0.7,
        classes: list[int] | None = None,
        max_det: int = 300,
        square: bool = False,
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        if not images:
            return []
        fitted = [letterbox(image, imgsz, square) for image in images]
        height = max(f[0].shape[0] for f in fitted)
        width = max(f[0].shape[1] for f in fitted)
        padded = [_pad_to(f[0], height, width) for f in fitted]
        outputs = self.session.run(None, {self.input_name: to_blob(padded)})
        points, strides = self._anchor_grid(height, width)
        n = len(images)
        box = np.concatenate([b.reshape(n, 4 * REG_MAX, -1) for b in outputs[0::2]], axis=2)  # (N, 64, A)
        logits = np.concatenate([c.reshape(n, c.shape[1], -1) for c in outputs[1::2]], axis=2)  # (N, C, A)
        if classes is not None:
            others = np.ones(logits.shape[1], dtype=bool)
            others[[c for c in classes if c < logits.shape[1]]] = False
            logits[:, others] = -np.inf
        results = []
        for k, (_, fit) in enumerate(fitted):
            class_id = logits[k].argmax(0)
            with np.errstate(over="ignore"):  # a very negative logit: exp overflows, the score is 0
                confidence = 1.0 / (1.0 + np.exp(-logits[k][class_id, np.arange(logits.shape[2])]))
            keep = np.flatnonzero(confidence > conf)
            xyxy = _boxes(box[k][:, keep], points[:, keep], strides[keep])
            kept = _nms(xyxy, confidence[keep], class_id[keep], iou)[:max_det]
            results.append((fit.to_image(xyxy[kept]), confidence[keep][kept], class_id[keep][kept]))
        return results

    def _anchor_grid(self, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Cell centres (2, A) in grid units and each anchor's stride (A,), levels 8, 16, 32 in order."""
        key = (height, width)
        if key not in self._anchors:
            points, strides = [], []
            for stride in STRIDES:
                h, w = height // stride, width // stride
                ys, xs = np.meshgrid(np.arange(h) + 0.5, np.arange(w) + 0.5, indexing="ij")
                points.append(np.stack([xs.ravel(), ys.ravel()]))
                strides.append(np.full(h * w, stride))
            self._anchors[key] = (
                np.concatenate(points, axis=1).astype(np.float32),
                np.concatenate(strides).astype(np.float32),
            )
        return self._anchors[key]


def _boxes(bins: np.ndarray, points: np.ndarray, strides: np.ndarray) -> np.ndarray:
    """Box distributions (64, K) at anchor points (2, K) -> boxes (K, 4) xyxy in input pixels: each
    side's distance is the expectation of its 16-bin softmax, in units of the anchor's stride."""
    bins = bins.reshape(4, REG_MAX, -1)
    bins = np.exp(bins - bins.max(axis=1, keepdims=True))
    distance = (bins * np.arange(REG_MAX, dtype=np.float32)[:, None]).sum(1) / bins.sum(1)  # (4, K)
    xyxy = np.concatenate([points - distance[:2], points + distance[2:]]) * strides
    return xyxy.T.astype(np.float32)


def _nms(xyxy: np.ndarray, confidence: np.ndarray, class_id: np.ndarray, iou: float) -> np.ndarray:
    """Ultralytics' non-maximum suppression, per class: indices kept, best first (OpenCV's)."""
    if not len(xyxy):
        return np.zeros(0, dtype=int)
    rects = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
    kept = cv2.dnn.NMSBoxesBatched(rects.tolist(), confidence.tolist(), class_id.tolist(), 0.0, iou)
    return np.asarray(kept, dtype=int).reshape(-1)


def _pad_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Pad at the bottom and right (the letterbox offsets stay as they were)."""
    h, w = image.shape[:2]
    if (h, w) == (height, width):
        return image
    return cv2.copyMakeBorder(image, 0, height - h, 0, width - w, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)


def derive_heads(source: Path, target: Path) -> None:
    """The recipe behind the manifest's `yolo-heads` files: a YOLOv8 ONNX export cut to its heads; a
    PyTorch (.pt) model is exported to ONNX first (Ultralytics and PyTorch, at `make models` time
    only), for a fixed 640x640 input that the cut then frees."""
    import tempfile

    if source.suffix != ".pt":
        cut_heads(source, target)
        return
    from anpr.weights import offline_ultralytics

    offline_ultralytics()
    from ultralytics import YOLO

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / source.name  # the export is written beside the .pt file
        copy.write_bytes(source.read_bytes())
        exported = YOLO(str(copy)).export(format="onnx", imgsz=640, simplify=False, dynamic=False, opset=17)
        cut_heads(Path(exported), target)
