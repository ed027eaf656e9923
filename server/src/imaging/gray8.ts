/** An 8-bit single-channel image, row-major, as the detector sees it before the letterbox. */
export interface Gray8Image {
  width: number;
  height: number;
  data: Uint8Array;
}
