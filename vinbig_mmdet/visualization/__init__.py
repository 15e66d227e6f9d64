"""Everything the project draws (tools/infer.py, the report, tools/browse_dataset.py, --show-dir), through
MMDetection's DetLocalVisualizer."""
from .draw import draw_detections, draw_sample, map_boxes, place_labels, radiograph_rgb

__all__ = ['draw_detections', 'draw_sample', 'map_boxes', 'place_labels', 'radiograph_rgb']
