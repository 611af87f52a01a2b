// ECharts, on demand: only the pieces the case map and the dashboard draw (keeps the chunk small).
// No tiles or map services: area outlines come from our own GeoJSON (GET /cases/map).
import * as echarts from 'echarts/core'
import { LineChart, BarChart, ScatterChart, LinesChart } from 'echarts/charts'
import { GridComponent, TooltipComponent, LegendComponent, GeoComponent, DataZoomComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'
// labelLayout.hideOverlap for the map's area names
import { LabelLayout } from 'echarts/features'

echarts.use([LineChart, BarChart, ScatterChart, LinesChart, GridComponent, TooltipComponent, LegendComponent, GeoComponent, DataZoomComponent, LabelLayout, CanvasRenderer])

export default echarts
