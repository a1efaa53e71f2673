// UI strings in English and Brazilian Portuguese. The suggestions themselves come translated
// from the API (Accept-Language); everything the page says by itself is here.

const CATALOGUE = {
  en: {
    "app.tagline": "How does your mix or master measure up?",
    "lang.label": "Language",
    "nav.analyze": "Analyse",
    "nav.history": "History",
    "form.title": "Analyse a track",
    "form.file": "Audio file",
    "form.file.choose": "Choose a file",
    "form.file.drop": "or drop it here",
    "form.file.none": "No file chosen",
    "form.file.hint": "WAV, AIFF, FLAC, MP3, OGG, Opus or M4A.",
    "form.genre": "Genre",
    "form.genre.loading": "Loading genres…",
    "form.genre.none": "No genre (measure only)",
    "form.destination": "Destination",
    "form.destination.streaming": "Streaming (−14 LUFS, −1 dBTP)",
    "form.destination.club": "Club (the genre's master targets)",
    "form.reference": "Reference (optional)",
    "form.reference.none": "No reference",
    "form.reference.file": "A second file",
    "form.reference.job": "An earlier analysis",
    "form.reference.file.label": "Reference file",
    "form.reference.job.label": "Earlier analysis",
    "form.reference.job.empty": "No completed analysis yet",
    "form.analyze": "Analyse",
    "form.need_file": "Choose an audio file first.",
    "form.need_reference": "Choose the reference file or analysis.",
    "progress.title": "Progress",
    "progress.upload": "Uploading {name}",
    "progress.upload_reference": "Uploading the reference {name}",
    "progress.reference": "Analysing the reference",
    "progress.queued": "Waiting for a worker",
    "stage.pending": "Waiting for a worker",
    "stage.queued": "Waiting for a worker",
    "stage.downloading": "Fetching the file",
    "stage.decoding": "Decoding",
    "stage.measuring": "Measuring",
    "stage.comparing": "Comparing with the targets",
    "stage.storing": "Saving the result",
    "stage.processing": "Processing",
    "stage.completed": "Done",
    "stage.failed": "Failed",
    "status.pending": "waiting",
    "status.processing": "processing",
    "status.completed": "completed",
    "status.failed": "failed",
    "job.failed": "The analysis failed",
    "job.retry": "Try again",
    "job.retry_needs_file": "Choose the file again to retry.",
    "error.network": "The server cannot be reached. Retrying…",
    "error.upload": "The upload failed: {reason}",
    "error.generic": "Something went wrong: {reason}",
    "error.not_found": "This analysis does not exist, or it belongs to someone else.",
    "report.title": "Report",
    "report.score": "Score",
    "report.parts": "Score by area",
    "report.part.loudness": "Loudness",
    "report.part.peaks": "Peaks",
    "report.part.dynamics": "Dynamics",
    "report.part.stereo": "Stereo",
    "report.part.tonal_balance": "Tonal balance",
    "report.vs_genre": "against {genre}",
    "report.vs_reference": "against the reference {name}",
    "report.destination": "destination: {destination}",
    "report.file": "{format}, {duration}, {rate} Hz, {channels} ch",
    "report.download": "Download JSON",
    "report.metrics": "Measurements",
    "report.metric": "Measure",
    "report.value": "Value",
    "report.target": "Target",
    "report.status": "Status",
    "report.suggestions": "Suggestions",
    "report.suggestions.none": "Nothing to fix: every measure is on target.",
    "report.normalization": "Streaming normalization",
    "report.normalization.hint":
      "What each platform will do to this track's level when it plays it.",
    "report.platform": "Platform",
    "report.platform_target": "Platform target",
    "report.gain": "Gain applied",
    "report.tp_after": "True peak after",
    "report.charts": "Charts",
    "report.reference": "Side by side with the reference",
    "report.this_track": "This track",
    "report.reference_track": "Reference",
    "report.difference": "Difference",
    "report.similarity": "Similarity",
    "severity.ok": "ok",
    "severity.info": "info",
    "severity.warning": "warning",
    "severity.critical": "critical",
    "mstatus.ok": "on target",
    "mstatus.low": "too low",
    "mstatus.high": "too high",
    "chart.loudness": "Loudness over time",
    "chart.loudness.momentary": "Momentary (400 ms)",
    "chart.loudness.short_term": "Short-term (3 s)",
    "chart.loudness.target": "Target {value} LUFS",
    "chart.loudness.reference": "Reference short-term",
    "chart.spectrum": "Tonal balance by band",
    "chart.spectrum.level": "This track",
    "chart.spectrum.target": "Target range",
    "chart.spectrum.reference": "Reference",
    "chart.correlation": "Stereo correlation over time",
    "chart.correlation.series": "Correlation",
    "chart.correlation.mono": "Mono file: no stereo correlation.",
    "chart.time": "time (s)",
    "chart.empty": "No data for this chart.",
    "band.sub": "Sub",
    "band.bass": "Bass",
    "band.low_mid": "Low mid",
    "band.mid": "Mid",
    "band.high_mid": "High mid",
    "band.presence": "Presence",
    "band.air": "Air",
    "band.short.sub": "Sub",
    "band.short.bass": "Bass",
    "band.short.low_mid": "LoMid",
    "band.short.mid": "Mid",
    "band.short.high_mid": "HiMid",
    "band.short.presence": "Pres",
    "band.short.air": "Air",
    "metric.integrated_lufs": "Integrated loudness",
    "metric.range_lu": "Loudness range",
    "metric.momentary_max_lufs": "Momentary max",
    "metric.short_term_max_lufs": "Short-term max",
    "metric.true_peak_dbtp": "True peak",
    "metric.sample_peak_dbfs": "Sample peak",
    "metric.clipped_samples": "Clipped samples",
    "metric.plr_db": "Peak to loudness (PLR)",
    "metric.crest_db": "Crest factor",
    "metric.dr": "Dynamic range (DR)",
    "metric.correlation": "Stereo correlation",
    "metric.width": "Stereo width",
    "metric.balance_db": "Left/right balance",
    "metric.mono_loss_lu": "Loss when folded to mono",
    "metric.centroid_hz": "Spectral centroid",
    "metric.tilt_db_per_octave": "Spectral tilt",
    "history.title": "Your earlier analyses",
    "history.empty": "No analyses yet.",
    "history.open": "Open",
    "history.file": "File",
    "history.date": "Date",
    "history.status": "Status",
    "history.score": "Score",
    "history.more": "Show more",
    "history.refresh": "Refresh",
    "close": "Close",
    "admin.title": "Soundy operator dashboard",
    "admin.token": "Admin token",
    "admin.signin": "Open the dashboard",
    "admin.signout": "Sign out",
    "admin.refused": "That token was refused.",
    "admin.disabled": "The dashboard is disabled: set SOUNDY_ADMIN_TOKEN on the server.",
    "admin.queue": "Queue",
    "admin.workers": "Live workers",
    "admin.workers.none": "No worker is running.",
    "admin.throughput": "Throughput",
    "admin.failures": "Recent failures",
    "admin.failures.none": "No failed jobs.",
    "admin.retry": "Retry",
    "admin.retried": "Retried as job {id}.",
    "admin.updated": "Updated {time}",
    "admin.count.waiting": "waiting",
    "admin.count.active": "active",
    "admin.count.delayed": "delayed",
    "admin.count.completed": "completed",
    "admin.count.failed": "failed",
    "admin.count.prioritized": "prioritized",
    "admin.count.paused": "paused",
    "admin.count.waiting-children": "waiting children",
    "admin.db": "Jobs in the database",
    "admin.last_minute": "completed in the last minute",
    "admin.last_hour": "completed in the last hour",
    "admin.failed_hour": "failed in the last hour",
    "admin.job": "Job",
    "admin.when": "When",
    "admin.reason": "Reason",
    "admin.attempts": "Attempts",
    "admin.worker": "Worker",
    "admin.seen": "Last seen",
  },
  "pt-BR": {
    "app.tagline": "Como está a sua mixagem ou master?",
    "lang.label": "Idioma",
    "nav.analyze": "Analisar",
    "nav.history": "Histórico",
    "form.title": "Analisar uma faixa",
    "form.file": "Arquivo de áudio",
    "form.file.choose": "Escolher arquivo",
    "form.file.drop": "ou solte-o aqui",
    "form.file.none": "Nenhum arquivo escolhido",
    "form.file.hint": "WAV, AIFF, FLAC, MP3, OGG, Opus ou M4A.",
    "form.genre": "Gênero",
    "form.genre.loading": "Carregando gêneros…",
    "form.genre.none": "Sem gênero (só medir)",
    "form.destination": "Destino",
    "form.destination.streaming": "Streaming (−14 LUFS, −1 dBTP)",
    "form.destination.club": "Clube (alvos de master do gênero)",
    "form.reference": "Referência (opcional)",
    "form.reference.none": "Sem referência",
    "form.reference.file": "Um segundo arquivo",
    "form.reference.job": "Uma análise anterior",
    "form.reference.file.label": "Arquivo de referência",
    "form.reference.job.label": "Análise anterior",
    "form.reference.job.empty": "Nenhuma análise concluída ainda",
    "form.analyze": "Analisar",
    "form.need_file": "Escolha um arquivo de áudio primeiro.",
    "form.need_reference": "Escolha o arquivo ou a análise de referência.",
    "progress.title": "Progresso",
    "progress.upload": "Enviando {name}",
    "progress.upload_reference": "Enviando a referência {name}",
    "progress.reference": "Analisando a referência",
    "progress.queued": "Aguardando um worker",
    "stage.pending": "Aguardando um worker",
    "stage.queued": "Aguardando um worker",
    "stage.downloading": "Buscando o arquivo",
    "stage.decoding": "Decodificando",
    "stage.measuring": "Medindo",
    "stage.comparing": "Comparando com os alvos",
    "stage.storing": "Salvando o resultado",
    "stage.processing": "Processando",
    "stage.completed": "Concluído",
    "stage.failed": "Falhou",
    "status.pending": "aguardando",
    "status.processing": "processando",
    "status.completed": "concluída",
    "status.failed": "falhou",
    "job.failed": "A análise falhou",
    "job.retry": "Tentar de novo",
    "job.retry_needs_file": "Escolha o arquivo de novo para tentar outra vez.",
    "error.network": "Não foi possível falar com o servidor. Tentando de novo…",
    "error.upload": "O envio falhou: {reason}",
    "error.generic": "Algo deu errado: {reason}",
    "error.not_found": "Esta análise não existe ou pertence a outra pessoa.",
    "report.title": "Relatório",
    "report.score": "Nota",
    "report.parts": "Nota por área",
    "report.part.loudness": "Loudness",
    "report.part.peaks": "Picos",
    "report.part.dynamics": "Dinâmica",
    "report.part.stereo": "Estéreo",
    "report.part.tonal_balance": "Equilíbrio tonal",
    "report.vs_genre": "comparado com {genre}",
    "report.vs_reference": "comparado com a referência {name}",
    "report.destination": "destino: {destination}",
    "report.file": "{format}, {duration}, {rate} Hz, {channels} canais",
    "report.download": "Baixar JSON",
    "report.metrics": "Medições",
    "report.metric": "Medida",
    "report.value": "Valor",
    "report.target": "Alvo",
    "report.status": "Situação",
    "report.suggestions": "Sugestões",
    "report.suggestions.none": "Nada a corrigir: todas as medidas estão no alvo.",
    "report.normalization": "Normalização nos streamings",
    "report.normalization.hint":
      "O que cada plataforma fará com o volume desta faixa ao tocá-la.",
    "report.platform": "Plataforma",
    "report.platform_target": "Alvo da plataforma",
    "report.gain": "Ganho aplicado",
    "report.tp_after": "True peak depois",
    "report.charts": "Gráficos",
    "report.reference": "Lado a lado com a referência",
    "report.this_track": "Esta faixa",
    "report.reference_track": "Referência",
    "report.difference": "Diferença",
    "report.similarity": "Semelhança",
    "severity.ok": "ok",
    "severity.info": "info",
    "severity.warning": "atenção",
    "severity.critical": "crítico",
    "mstatus.ok": "no alvo",
    "mstatus.low": "baixo demais",
    "mstatus.high": "alto demais",
    "chart.loudness": "Loudness ao longo do tempo",
    "chart.loudness.momentary": "Momentâneo (400 ms)",
    "chart.loudness.short_term": "Curto prazo (3 s)",
    "chart.loudness.target": "Alvo {value} LUFS",
    "chart.loudness.reference": "Referência (curto prazo)",
    "chart.spectrum": "Equilíbrio tonal por banda",
    "chart.spectrum.level": "Esta faixa",
    "chart.spectrum.target": "Faixa-alvo",
    "chart.spectrum.reference": "Referência",
    "chart.correlation": "Correlação estéreo ao longo do tempo",
    "chart.correlation.series": "Correlação",
    "chart.correlation.mono": "Arquivo mono: sem correlação estéreo.",
    "chart.time": "tempo (s)",
    "chart.empty": "Sem dados para este gráfico.",
    "band.sub": "Sub",
    "band.bass": "Graves",
    "band.low_mid": "Médios-graves",
    "band.mid": "Médios",
    "band.high_mid": "Médios-agudos",
    "band.presence": "Presença",
    "band.air": "Brilho",
    "band.short.sub": "Sub",
    "band.short.bass": "Grave",
    "band.short.low_mid": "MGrav",
    "band.short.mid": "Méd",
    "band.short.high_mid": "MAgud",
    "band.short.presence": "Pres",
    "band.short.air": "Brilho",
    "metric.integrated_lufs": "Loudness integrado",
    "metric.range_lu": "Faixa de loudness (LRA)",
    "metric.momentary_max_lufs": "Momentâneo máximo",
    "metric.short_term_max_lufs": "Curto prazo máximo",
    "metric.true_peak_dbtp": "True peak",
    "metric.sample_peak_dbfs": "Pico de amostra",
    "metric.clipped_samples": "Amostras clipadas",
    "metric.plr_db": "Pico/loudness (PLR)",
    "metric.crest_db": "Fator de crista",
    "metric.dr": "Faixa dinâmica (DR)",
    "metric.correlation": "Correlação estéreo",
    "metric.width": "Largura estéreo",
    "metric.balance_db": "Balanço esquerda/direita",
    "metric.mono_loss_lu": "Perda ao somar em mono",
    "metric.centroid_hz": "Centroide espectral",
    "metric.tilt_db_per_octave": "Inclinação espectral",
    "history.title": "Suas análises anteriores",
    "history.empty": "Nenhuma análise ainda.",
    "history.open": "Abrir",
    "history.file": "Arquivo",
    "history.date": "Data",
    "history.status": "Situação",
    "history.score": "Nota",
    "history.more": "Mostrar mais",
    "history.refresh": "Atualizar",
    "close": "Fechar",
    "admin.title": "Painel do operador do Soundy",
    "admin.token": "Token de administrador",
    "admin.signin": "Abrir o painel",
    "admin.signout": "Sair",
    "admin.refused": "Esse token foi recusado.",
    "admin.disabled": "O painel está desativado: defina SOUNDY_ADMIN_TOKEN no servidor.",
    "admin.queue": "Fila",
    "admin.workers": "Workers ativos",
    "admin.workers.none": "Nenhum worker em execução.",
    "admin.throughput": "Vazão",
    "admin.failures": "Falhas recentes",
    "admin.failures.none": "Nenhum job com falha.",
    "admin.retry": "Tentar de novo",
    "admin.retried": "Reenviado como o job {id}.",
    "admin.updated": "Atualizado às {time}",
    "admin.count.waiting": "aguardando",
    "admin.count.active": "ativos",
    "admin.count.delayed": "adiados",
    "admin.count.completed": "concluídos",
    "admin.count.failed": "com falha",
    "admin.count.prioritized": "priorizados",
    "admin.count.paused": "pausados",
    "admin.count.waiting-children": "aguardando filhos",
    "admin.db": "Jobs no banco de dados",
    "admin.last_minute": "concluídos no último minuto",
    "admin.last_hour": "concluídos na última hora",
    "admin.failed_hour": "com falha na última hora",
    "admin.job": "Job",
    "admin.when": "Quando",
    "admin.reason": "Motivo",
    "admin.attempts": "Tentativas",
    "admin.worker": "Worker",
    "admin.seen": "Visto por último",
  },
};

export const LANGUAGES = [
  { code: "en", label: "English" },
  { code: "pt-BR", label: "Português (Brasil)" },
];

const STORAGE_KEY = "soundy.lang";
let current = detect();

/** The language kept from the switch, else the browser's: any Portuguese -> pt-BR, else en. */
function detect() {
  let saved = null;
  try {
    saved = localStorage.getItem(STORAGE_KEY);
  } catch {
    saved = null;
  }
  if (saved && saved in CATALOGUE) return saved;
  const wanted = navigator.languages && navigator.languages.length
    ? navigator.languages
    : [navigator.language || "en"];
  for (const tag of wanted) {
    const lower = String(tag).toLowerCase();
    if (lower.startsWith("pt")) return "pt-BR";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

export function lang() {
  return current;
}

export function setLang(code) {
  if (!(code in CATALOGUE)) return;
  current = code;
  try {
    localStorage.setItem(STORAGE_KEY, code);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  document.documentElement.lang = code;
}

/** The string for `key` in the current language with `{name}` placeholders filled. */
export function t(key, params = {}) {
  const text = CATALOGUE[current][key] ?? CATALOGUE.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    name in params ? String(params[name]) : whole,
  );
}

/** Whether the catalogue has `key` (used to label metrics the API names). */
export function has(key) {
  return key in CATALOGUE[current] || key in CATALOGUE.en;
}

/** Fill every element with data-i18n (text) / data-i18n-attr ("attr:key;attr:key") under root. */
export function translate(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":");
      if (attr && key) el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}

/** A number in the current language's format (pt-BR: decimal comma), "—" for null. */
export function num(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return new Intl.NumberFormat(current, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}

export function dateTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(current, { dateStyle: "short", timeStyle: "short" }).format(d);
}
