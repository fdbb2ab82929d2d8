/**
 * Render an SVG to PNG with resvg (a native addon, loaded only when a PNG is asked for). Text uses
 * the system's fonts: without any installed (e.g. Debian's fonts-dejavu-core) the PNG has no labels.
 */
export async function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  const { Resvg } = await import('@resvg/resvg-js');
  return new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, font: { loadSystemFonts: true } }).render().asPng();
}
