# ruff: noqa: E501  (the catalogue keeps each sentence on one line)
"""Suggestion texts in English and Brazilian Portuguese, one catalogue with named placeholders.

``render(key, lang, **values)`` formats the entry ``key`` in ``lang`` ("en" or "pt-BR"); numbers
given as floats are written with one decimal and the language's decimal separator. Every key has
both languages with the same placeholders (a test checks it).
"""

from __future__ import annotations

import string
from typing import Any

__all__ = ["CATALOGUE", "LANGS", "normalise_lang", "number", "placeholders", "render", "text"]

LANGS: tuple[str, ...] = ("en", "pt-BR")

# Each entry: {"en": str, "pt-BR": str}. Placeholders: current, target, min, max, amount, unit,
# against ("target"/"reference" word; the_against and against_subject: the same with its
# article), band, range, ceiling, count, cut, moves, name (what the track is compared with;
# of_name: the same after "from"/"de"),
# nearest (the closest genres), instead (what to do when EQ is not the fix), max_eq, high, low.
CATALOGUE: dict[str, dict[str, str]] = {
    # words used inside other messages
    "against.target": {"en": "target", "pt-BR": "alvo"},
    "against.reference": {"en": "reference", "pt-BR": "referência"},
    # ... with its article, after a preposition ("below the target"; pt-BR contracts it with
    # "de" and agrees in gender: "abaixo do alvo", "abaixo da referência")
    "against.the.target": {"en": "the target", "pt-BR": "do alvo"},
    "against.the.reference": {"en": "the reference", "pt-BR": "da referência"},
    # ... as the subject of a clause ("the target -2.1 dB per octave": "o alvo", "a referência")
    "against.subject.target": {"en": "the target", "pt-BR": "o alvo"},
    "against.subject.reference": {"en": "the reference", "pt-BR": "a referência"},
    "band.sub": {"en": "Sub", "pt-BR": "Sub-grave"},
    "band.bass": {"en": "Bass", "pt-BR": "Grave"},
    "band.low_mid": {"en": "Low mids", "pt-BR": "Médio-grave"},
    "band.mid": {"en": "Mids", "pt-BR": "Médios"},
    "band.high_mid": {"en": "High mids", "pt-BR": "Médio-agudo"},
    "band.presence": {"en": "Presence", "pt-BR": "Presença"},
    "band.air": {"en": "Air", "pt-BR": "Ar (brilho)"},
    # loudness
    "loudness.low.message": {
        "en": "Integrated loudness is {current} LUFS, {amount} LU too quiet ({against}: {target} LUFS).",
        "pt-BR": "A loudness integrada é {current} LUFS, {amount} LU baixa demais ({against}: {target} LUFS).",
    },
    "loudness.low.action": {
        "en": "Raise the loudness by about {amount} dB with the limiter/gain, keeping the true peak at or below {ceiling} dBTP: the peaks, now at {peak} dBTP, then need about {limit} dB more limiting than now.",
        "pt-BR": "Aumente a loudness em cerca de {amount} dB com o limiter/ganho, mantendo o true peak em até {ceiling} dBTP: os picos, hoje em {peak} dBTP, passam a pedir cerca de {limit} dB a mais de limiter do que agora.",
    },
    "loudness.low_gain.action": {
        "en": "Raise the loudness by about {amount} dB with the gain: the true peak, now {peak} dBTP, stays at or below {ceiling} dBTP without more limiting.",
        "pt-BR": "Aumente a loudness em cerca de {amount} dB com o ganho: o true peak, hoje em {peak} dBTP, fica em até {ceiling} dBTP sem mais limiter.",
    },
    "loudness.low_playback.message": {
        "en": "Integrated loudness is {current} LUFS ({against}: {target} LUFS): {platforms} do not raise it to their level, so it plays quieter there than the tracks around it (by up to {amount} LU).",
        "pt-BR": "A loudness integrada é {current} LUFS ({against}: {target} LUFS): {platforms} não a elevam até o nível delas, então ela toca mais baixa ali que as faixas ao redor (até {amount} LU).",
    },
    "loudness.high.message": {
        "en": "Integrated loudness is {current} LUFS, {amount} LU too loud ({against}: {target} LUFS).",
        "pt-BR": "A loudness integrada é {current} LUFS, {amount} LU alta demais ({against}: {target} LUFS).",
    },
    "loudness.high.action": {
        "en": "Lower the gain into the limiter by about {amount} dB: louder than the target is only turned down on playback and costs dynamics.",
        "pt-BR": "Reduza o ganho na entrada do limiter em cerca de {amount} dB: acima do alvo a faixa só é abaixada na reprodução e perde dinâmica.",
    },
    # peaks
    "true_peak.over.message": {
        "en": "True peak is {current} dBTP, over full scale: the track will clip after conversion and lossy encoding.",
        "pt-BR": "O true peak é {current} dBTP, acima do fundo de escala: a faixa vai clipar na conversão e na codificação com perdas.",
    },
    "true_peak.over_decoded.message": {
        "en": "True peak is {current} dBTP, over full scale: {count} samples of this lossy file decode over it (the codec's overshoot of peaks at full scale, or clipping before encoding), and the track will clip after conversion and lossy encoding.",
        "pt-BR": "O true peak é {current} dBTP, acima do fundo de escala: {count} amostras deste arquivo com perdas decodificam acima dele (o overshoot do codec em picos no fundo de escala, ou clipagem antes da codificação), e a faixa vai clipar na conversão e na codificação com perdas.",
    },
    "true_peak.high.message": {
        "en": "True peak is {current} dBTP, above the ceiling of {max} dBTP.",
        "pt-BR": "O true peak é {current} dBTP, acima do teto de {max} dBTP.",
    },
    "true_peak.high.action": {
        "en": "Lower the limiter ceiling to {max} dBTP (true-peak mode) and re-export.",
        "pt-BR": "Abaixe o teto (ceiling) do limiter para {max} dBTP (modo true peak) e exporte de novo.",
    },
    "true_peak.low.message": {
        "en": "True peak is {current} dBTP, {amount} dB below {the_against} ({target} dBTP): unused headroom.",
        "pt-BR": "O true peak é {current} dBTP, {amount} dB abaixo {the_against} ({target} dBTP): headroom sem uso.",
    },
    "true_peak.low.action": {
        "en": "You can raise the limiter ceiling or the output gain by about {amount} dB.",
        "pt-BR": "Você pode subir o teto do limiter ou o ganho de saída em cerca de {amount} dB.",
    },
    "clipping.message": {
        "en": "{count} samples are clipped (at or over full scale).",
        "pt-BR": "{count} amostras estão clipadas (no fundo de escala ou acima).",
    },
    "clipping.action": {
        "en": "Lower the gain into the final limiter until no sample clips, and set its ceiling to {ceiling} dBTP.",
        "pt-BR": "Reduza o ganho antes do limiter final até nenhuma amostra clipar e ajuste o teto para {ceiling} dBTP.",
    },
    "dc_offset.high.message": {
        "en": "The file has a DC offset of {current} dBFS (at most {max} dBFS): it wastes headroom on one side of every peak.",
        "pt-BR": "O arquivo tem um DC offset de {current} dBFS (no máximo {max} dBFS): ele gasta headroom de um lado de cada pico.",
    },
    "dc_offset.large.message": {
        "en": "The file has a large DC offset ({current} dBFS, at most {max} dBFS): it takes headroom from every peak, thumps at every start and stop, and pushes speakers off centre.",
        "pt-BR": "O arquivo tem um DC offset grande ({current} dBFS, no máximo {max} dBFS): ele tira headroom de cada pico, dá estalos em cada início e fim e desloca os alto-falantes do centro.",
    },
    "dc_offset.action": {
        "en": "Remove the DC offset: a high-pass filter at 10-20 Hz on the master (or your editor's DC offset removal), then check the source that adds it.",
        "pt-BR": "Remova o DC offset: um filtro passa-altas em 10-20 Hz no master (ou a remoção de DC offset do seu editor) e depois procure a fonte que o adiciona.",
    },
    # dynamics
    "dr.low.message": {
        "en": "Dynamic range is DR {current}, below {the_against} DR {target}: over-compressed.",
        "pt-BR": "A faixa dinâmica é DR {current}, abaixo {the_against} DR {target}: compressão demais.",
    },
    "dr.low.action": {
        "en": "Back off the limiter and bus compression by about {amount} dB of gain reduction.",
        "pt-BR": "Alivie o limiter e a compressão do master em cerca de {amount} dB de redução de ganho.",
    },
    "dr.high.message": {
        "en": "Dynamic range is DR {current}, above {the_against} DR {target}: less dense than expected.",
        "pt-BR": "A faixa dinâmica é DR {current}, acima {the_against} DR {target}: menos densa que o esperado.",
    },
    "dr.high.action": {
        "en": "Add bus compression or limiting to bring the DR down by about {amount}.",
        "pt-BR": "Use compressão de bus ou limiter para reduzir o DR em cerca de {amount}.",
    },
    "lra.low.message": {
        "en": "Loudness range is {current} LU, below {the_against} {target} LU: sections sound flat.",
        "pt-BR": "O loudness range é {current} LU, abaixo {the_against} {target} LU: as seções soam planas.",
    },
    "lra.low.action": {
        "en": "Let sections breathe: automate levels or ease compression so the range grows by about {amount} LU.",
        "pt-BR": "Deixe as seções respirarem: automatize volumes ou alivie a compressão para o range crescer cerca de {amount} LU.",
    },
    "lra.high.message": {
        "en": "Loudness range is {current} LU, above {the_against} {target} LU: sections jump in level.",
        "pt-BR": "O loudness range é {current} LU, acima {the_against} {target} LU: as seções variam muito de volume.",
    },
    "lra.high.action": {
        "en": "Even out sections with level automation or gentle compression, about {amount} LU less range.",
        "pt-BR": "Equilibre as seções com automação de volume ou compressão suave, cerca de {amount} LU a menos.",
    },
    # stereo
    "phase.message": {
        "en": "Left and right are out of phase (correlation {current}): they cancel when played in mono.",
        "pt-BR": "Esquerdo e direito estão fora de fase (correlação {current}): eles se cancelam em mono.",
    },
    "phase.action": {
        "en": "Check phase: flip the polarity of one channel or remove the phase-shifting stereo effect; keep the low end mono.",
        "pt-BR": "Verifique a fase: inverta a polaridade de um canal ou remova o efeito estéreo que desloca a fase; mantenha o grave em mono.",
    },
    "correlation.low.message": {
        "en": "Stereo correlation is {current}, below {the_against} {target}: very wide and weak in mono.",
        "pt-BR": "A correlação estéreo é {current}, abaixo {the_against} {target}: muito aberta e fraca em mono.",
    },
    "correlation.low.action": {
        "en": "Narrow: reduce stereo wideners and side level, and keep everything below 150 Hz mono.",
        "pt-BR": "Estreite: reduza os alargadores estéreo e o nível do side, e mantenha tudo abaixo de 150 Hz em mono.",
    },
    "correlation.high.message": {
        "en": "Stereo correlation is {current}, above {the_against} {target}: the image is narrow.",
        "pt-BR": "A correlação estéreo é {current}, acima {the_against} {target}: a imagem está estreita.",
    },
    "correlation.high.action": {
        "en": "Widen: pan elements apart and use stereo reverbs, delays or doubles above 300 Hz; keep the bass mono.",
        "pt-BR": "Abra a imagem: espalhe o pan dos elementos e use reverbs, delays ou dobras estéreo acima de 300 Hz; mantenha o grave em mono.",
    },
    "width.low.message": {
        "en": "Stereo width (side/mid energy) is {current}, below {the_against} {target}: narrow, close to mono.",
        "pt-BR": "A largura estéreo (energia side/mid) é {current}, abaixo {the_against} {target}: estreita, quase mono.",
    },
    "width.low.action": {
        "en": "Widen: raise the side level (M/S) by about {amount} dB, or pan and double elements above 300 Hz; keep the bass mono.",
        "pt-BR": "Abra a imagem: suba o nível do side (M/S) em cerca de {amount} dB, ou espalhe e dobre elementos acima de 300 Hz; mantenha o grave em mono.",
    },
    "width.mono.message": {
        "en": "Left and right are identical: the track is mono.",
        "pt-BR": "Esquerdo e direito são idênticos: a faixa está em mono.",
    },
    "width.high.message": {
        "en": "Stereo width (side/mid energy) is {current}, above {the_against} {target}: very wide.",
        "pt-BR": "A largura estéreo (energia side/mid) é {current}, acima {the_against} {target}: muito aberta.",
    },
    "width.high.action": {
        "en": "Narrow: lower the side level (M/S) by about {amount} dB and keep everything below 150 Hz mono.",
        "pt-BR": "Estreite: abaixe o nível do side (M/S) em cerca de {amount} dB e mantenha tudo abaixo de 150 Hz em mono.",
    },
    "channel.silent_left.message": {
        "en": "The left channel is silent ({amount} dB below the right): on stereo playback one speaker plays nothing.",
        "pt-BR": "O canal esquerdo está mudo ({amount} dB abaixo do direito): na reprodução estéreo, uma caixa não toca nada.",
    },
    "channel.silent_right.message": {
        "en": "The right channel is silent ({amount} dB below the left): on stereo playback one speaker plays nothing.",
        "pt-BR": "O canal direito está mudo ({amount} dB abaixo do esquerdo): na reprodução estéreo, uma caixa não toca nada.",
    },
    "channel.silent.action": {
        "en": "Check the export and the routing of the master bus: a mono source should go to both channels (or export a mono file).",
        "pt-BR": "Revise a exportação e o roteamento do bus master: uma fonte mono deve ir para os dois canais (ou exporte um arquivo mono).",
    },
    "balance.left.message": {
        "en": "The left channel is {amount} dB louder than the right.",
        "pt-BR": "O canal esquerdo está {amount} dB mais alto que o direito.",
    },
    "balance.left.action": {
        "en": "Re-centre: lower the left channel by about {amount} dB or check the panning of the main elements.",
        "pt-BR": "Centralize: abaixe o canal esquerdo em cerca de {amount} dB ou revise o pan dos elementos principais.",
    },
    "balance.right.message": {
        "en": "The right channel is {amount} dB louder than the left.",
        "pt-BR": "O canal direito está {amount} dB mais alto que o esquerdo.",
    },
    "balance.right.action": {
        "en": "Re-centre: lower the right channel by about {amount} dB or check the panning of the main elements.",
        "pt-BR": "Centralize: abaixe o canal direito em cerca de {amount} dB ou revise o pan dos elementos principais.",
    },
    # tonal balance
    "band.high.message": {
        "en": "{band} ({range}) is {current} dB of the total, above {the_against} of {target} dB.",
        "pt-BR": "{band} ({range}) está em {current} dB do total, acima {the_against} de {target} dB.",
    },
    "band.low.message": {
        "en": "{band} ({range}) is {current} dB of the total, below {the_against} of {target} dB.",
        "pt-BR": "{band} ({range}) está em {current} dB do total, abaixo {the_against} de {target} dB.",
    },
    "band.move.message": {
        "en": "{band} ({range}) is inside its range at {current} dB of the total (its {against}: {target} dB), but matching the balance of the other bands needs it moved by about {cut} dB.",
        "pt-BR": "{band} ({range}) está dentro da faixa, em {current} dB do total ({against}: {target} dB), mas equilibrar as outras bandas pede movê-la em cerca de {cut} dB.",
    },
    "band.move_far.message": {
        "en": "{band} ({range}) is inside its range at {current} dB of the total (its {against}: {target} dB), but against the balance of the other bands it sits {cut} dB off {of_name}'s.",
        "pt-BR": "{band} ({range}) está dentro da faixa, em {current} dB do total ({against}: {target} dB), mas diante do equilíbrio das outras bandas fica {cut} dB fora do equilíbrio {of_name}.",
    },
    "band.follows_far.action": {
        "en": "Leave this band to the EQ: it reads off because the balance of the others is far from {of_name}. {instead}",
        "pt-BR": "Não corrija esta banda com EQ: ela aparece fora porque o equilíbrio das outras está longe {of_name}. {instead}",
    },
    "band.eq_note": {
        "en": "This band's own move, {move} dB, is its {gap} dB to the target {plus_less} {offset} dB: the EQ leaves {reference} as it is, and {reference} sits {offset} dB {above_below} its own target.",
        "pt-BR": "O ajuste próprio desta banda, {move} dB, são os {gap} dB até o alvo {plus_less} {offset} dB: o EQ deixa {reference} como está, e {reference} está {offset} dB {above_below} do próprio alvo.",
    },
    "band.with_tilt_cut.action": {
        "en": "With the broad tilt EQ of the tilt suggestion, cut {range} by about {net} dB in all: the tilt EQ gives it {tilt} dB, this band's own move is {move} dB.",
        "pt-BR": "Com o EQ de inclinação da sugestão de inclinação, corte {range} em cerca de {net} dB no total: o EQ de inclinação dá {tilt} dB a ela, o ajuste próprio desta banda é {move} dB.",
    },
    "band.with_tilt_boost.action": {
        "en": "With the broad tilt EQ of the tilt suggestion, boost {range} by about {net} dB in all: the tilt EQ gives it {tilt} dB, this band's own move is {move} dB.",
        "pt-BR": "Com o EQ de inclinação da sugestão de inclinação, realce {range} em cerca de {net} dB no total: o EQ de inclinação dá {tilt} dB a ela, o ajuste próprio desta banda é {move} dB.",
    },
    "band.with_tilt_leave.action": {
        "en": "With the broad tilt EQ of the tilt suggestion, leave {range} about as it is: the tilt EQ gives it {tilt} dB, this band's own move is {move} dB, about {net} dB in all.",
        "pt-BR": "Com o EQ de inclinação da sugestão de inclinação, deixe {range} mais ou menos como está: o EQ de inclinação dá {tilt} dB a ela, o ajuste próprio desta banda é {move} dB, cerca de {net} dB no total.",
    },
    "band.with_tilt_far.action": {
        "en": "With the broad tilt EQ of the tilt suggestion, {range} would need {net} dB in all (the tilt EQ gives it {tilt} dB, this band's own move is {move} dB), more than an EQ should fix ({max_eq} dB at most): this track's balance is far from {of_name}. {instead}",
        "pt-BR": "Com o EQ de inclinação da sugestão de inclinação, {range} precisaria de {net} dB no total (o EQ de inclinação dá {tilt} dB a ela, o ajuste próprio desta banda é {move} dB), mais do que um EQ deve corrigir (no máximo {max_eq} dB): o equilíbrio desta faixa está longe {of_name}. {instead}",
    },
    "word.plus": {"en": "plus", "pt-BR": "mais"},
    "word.less": {"en": "less", "pt-BR": "menos"},
    "word.above": {"en": "above", "pt-BR": "acima"},
    "word.below": {"en": "below", "pt-BR": "abaixo"},
    "band.cut.action": {
        "en": "Cut {range} by about {cut} dB.",
        "pt-BR": "Corte {range} em cerca de {cut} dB.",
    },
    "band.low_end_cut.action": {
        "en": "Reduce the low end below 150 Hz ({range}) by about {cut} dB.",
        "pt-BR": "Reduza o grave abaixo de 150 Hz ({range}) em cerca de {cut} dB.",
    },
    "band.boost.action": {
        "en": "Boost {range} by about {cut} dB.",
        "pt-BR": "Realce {range} em cerca de {cut} dB.",
    },
    "band.far_cut.action": {
        "en": "Against the other bands (they are off too), {range} is {cut} dB too strong for {name}, more than an EQ should fix ({max_eq} dB at most): this track's balance is far from {of_name}. {instead}",
        "pt-BR": "Diante das outras bandas (que também estão fora), {range} está {cut} dB forte demais para {name}, mais do que um EQ deve corrigir (no máximo {max_eq} dB): o equilíbrio desta faixa está longe {of_name}. {instead}",
    },
    "band.far_boost.action": {
        "en": "Against the other bands (they are off too), {range} is {cut} dB too weak for {name}, more than an EQ should fix ({max_eq} dB at most): this track's balance is far from {of_name}. {instead}",
        "pt-BR": "Diante das outras bandas (que também estão fora), {range} está {cut} dB fraco demais para {name}, mais do que um EQ deve corrigir (no máximo {max_eq} dB): o equilíbrio desta faixa está longe {of_name}. {instead}",
    },
    # the overall tilt of the balance
    "tilt.low.message": {
        "en": "The balance is darker than {name}: its tilt is {current} dB per octave, {against_subject} {target} dB per octave.",
        "pt-BR": "O equilíbrio está mais escuro que {name}: a inclinação é {current} dB por oitava, {against_subject} {target} dB por oitava.",
    },
    "tilt.high.message": {
        "en": "The balance is brighter than {name}: its tilt is {current} dB per octave, {against_subject} {target} dB per octave.",
        "pt-BR": "O equilíbrio está mais brilhante que {name}: a inclinação é {current} dB por oitava, {against_subject} {target} dB por oitava.",
    },
    "tilt.low.action": {
        "en": "Brighten the whole track with one broad tilt EQ (two shelves around 1 kHz), about +{high} dB at 10 kHz and -{low} dB at 50 Hz, rather than band by band.",
        "pt-BR": "Clareie a faixa inteira com um único EQ de inclinação (dois shelves em torno de 1 kHz), cerca de +{high} dB em 10 kHz e -{low} dB em 50 Hz, em vez de banda por banda.",
    },
    "tilt.high.action": {
        "en": "Darken the whole track with one broad tilt EQ (two shelves around 1 kHz), about -{high} dB at 10 kHz and +{low} dB at 50 Hz, rather than band by band.",
        "pt-BR": "Escureça a faixa inteira com um único EQ de inclinação (dois shelves em torno de 1 kHz), cerca de -{high} dB em 10 kHz e +{low} dB em 50 Hz, em vez de banda por banda.",
    },
    "tilt.far.action": {
        "en": "That is more tilt than an EQ should fix ({max_eq} dB at most at either end): this track's balance is far from {of_name}. {instead}",
        "pt-BR": "É inclinação demais para um EQ corrigir (no máximo {max_eq} dB em cada ponta): o equilíbrio desta faixa está longe {of_name}. {instead}",
    },
    "instead.genres": {
        "en": "It is closer to {nearest}; choose one of those, or compare it with a reference track, before reaching for an EQ.",
        "pt-BR": "Ela está mais perto de {nearest}; escolha um desses, ou compare com uma faixa de referência, antes de recorrer ao EQ.",
    },
    "instead.reference": {
        "en": "No other genre is closer to it; compare it with a reference track you want it to sound like.",
        "pt-BR": "Nenhum outro gênero está mais perto dela; compare com uma faixa de referência que soe como você quer.",
    },
    "instead.other_reference": {
        "en": "A reference this far from the track's balance is a different sound: compare it with a reference closer to the sound you want rather than reaching for an EQ.",
        "pt-BR": "Uma referência tão longe do equilíbrio da faixa é outro som: compare com uma referência mais próxima do som que você quer, em vez de recorrer ao EQ.",
    },
    "name.reference": {"en": "the reference track", "pt-BR": "a faixa de referência"},
    "name.targets": {"en": "the targets", "pt-BR": "os alvos"},
    # ... after "from"/"de" (pt-BR contracts it: "longe da faixa de referência", "dos alvos")
    "name.of.genre": {"en": "{name}", "pt-BR": "de {name}"},
    "name.of.reference": {"en": "the reference track", "pt-BR": "da faixa de referência"},
    "name.of.targets": {"en": "the targets", "pt-BR": "dos alvos"},
    # where a target comes from (a suggestion's source)
    "source.genre": {"en": "the {name} genre profile", "pt-BR": "o perfil do gênero {name}"},
    "source.reference": {"en": "the reference track", "pt-BR": "a faixa de referência"},
    "source.stage.mix": {
        "en": "a mix before mastering (headroom for the mastering limiter)",
        "pt-BR": "uma mixagem antes da masterização (headroom para o limiter da master)",
    },
    "source.stage.master": {"en": "a finished master", "pt-BR": "uma master finalizada"},
    "source.destination.streaming": {
        "en": "streaming (platforms play at -14 LUFS with -1 dBTP of headroom)",
        "pt-BR": "streaming (as plataformas tocam a -14 LUFS com -1 dBTP de headroom)",
    },
    "source.destination.club": {
        "en": "club playback (the genre's master targets)",
        "pt-BR": "reprodução em clube (os alvos de master do gênero)",
    },
    "source.limit": {
        "en": "what plays back without damage (full scale, mono compatibility, centred image)",
        "pt-BR": "o que toca sem danos (fundo de escala, compatibilidade mono, imagem centrada)",
    },
    # the codec check (soundy.compare.codec)
    "codec.peaks.message": {
        "en": "After {platform}'s encoding ({codec}, {bitrate} kbit/s) your peaks reach {peak} dBTP (the master: {before} dBTP).",
        "pt-BR": "Depois da codificação do {platform} ({codec}, {bitrate} kbit/s) seus picos chegam a {peak} dBTP (a master: {before} dBTP).",
    },
    "codec.clipped.message": {
        "en": "After {platform}'s encoding ({codec}, {bitrate} kbit/s) your peaks reach {peak} dBTP (the master: {before} dBTP), and {count} samples pass full scale at its playback level.",
        "pt-BR": "Depois da codificação do {platform} ({codec}, {bitrate} kbit/s) seus picos chegam a {peak} dBTP (a master: {before} dBTP), e {count} amostras passam do fundo de escala no nível de reprodução dele.",
    },
    "codec.peaks.action": {
        "en": "Lower the ceiling to {ceiling} dBTP: the peaks then stay under {limit} dBTP after encoding.",
        "pt-BR": "Abaixe o teto (ceiling) para {ceiling} dBTP: assim os picos ficam abaixo de {limit} dBTP depois da codificação.",
    },
    "source.codec": {
        "en": "{platform}'s delivery codec, encoded and decoded again",
        "pt-BR": "o codec de entrega do {platform}, codificado e decodificado de novo",
    },
    "band.follows.action": {
        "en": "Leave this band: it follows the bigger moves of the balance ({moves}).",
        "pt-BR": "Não mexa nesta banda: ela acompanha os ajustes maiores do equilíbrio ({moves}).",
    },
    # albums and EPs (soundy.compare.album)
    "album.loudness.high": {
        "en": "{name} is {amount} LU louder than the album's typical track ({median} LUFS; tracks more than {limit} LU apart stand out).",
        "pt-BR": "{name} está {amount} LU mais alta que a faixa típica do álbum ({median} LUFS; faixas a mais de {limit} LU se destacam).",
    },
    "album.loudness.low": {
        "en": "{name} is {amount} LU quieter than the album's typical track ({median} LUFS; tracks more than {limit} LU apart stand out). Intended for a quiet song? Keep it; otherwise raise it.",
        "pt-BR": "{name} está {amount} LU mais baixa que a faixa típica do álbum ({median} LUFS; faixas a mais de {limit} LU se destacam). É uma música calma de propósito? Mantenha; senão, suba o nível.",
    },
    "album.plr.high": {
        "en": "{name} has {amount} dB more peak-to-loudness ratio than the album's typical track ({median} dB): it is limited less than the rest and will sound softer next to them.",
        "pt-BR": "{name} tem {amount} dB a mais de relação pico/loudness que a faixa típica do álbum ({median} dB): está menos limitada que as outras e vai soar mais fraca ao lado delas.",
    },
    "album.plr.low": {
        "en": "{name} has {amount} dB less peak-to-loudness ratio than the album's typical track ({median} dB): it is limited harder than the rest and will sound flatter next to them.",
        "pt-BR": "{name} tem {amount} dB a menos de relação pico/loudness que a faixa típica do álbum ({median} dB): está mais limitada que as outras e vai soar mais achatada ao lado delas.",
    },
    "album.tilt.high": {
        "en": "{name} is brighter than the rest: its spectral tilt is {amount} dB/octave above the album's typical track ({median} dB/octave).",
        "pt-BR": "{name} está mais brilhante que as outras: a inclinação espectral está {amount} dB/oitava acima da faixa típica do álbum ({median} dB/oitava).",
    },
    "album.tilt.low": {
        "en": "{name} is darker than the rest: its spectral tilt is {amount} dB/octave below the album's typical track ({median} dB/octave).",
        "pt-BR": "{name} está mais escura que as outras: a inclinação espectral está {amount} dB/oitava abaixo da faixa típica do álbum ({median} dB/oitava).",
    },
    "album.width.high": {
        "en": "{name} is wider than the rest: stereo width {current} against {median} for the album's typical track.",
        "pt-BR": "{name} está mais aberta que as outras: largura estéreo {current} contra {median} na faixa típica do álbum.",
    },
    "album.width.low": {
        "en": "{name} is narrower than the rest: stereo width {current} against {median} for the album's typical track.",
        "pt-BR": "{name} está mais estreita que as outras: largura estéreo {current} contra {median} na faixa típica do álbum.",
    },
    "album.rule.spotify": {
        "en": "Spotify (album mode, Normal)",
        "pt-BR": "Spotify (modo álbum, Normal)",
    },
    "album.rule.aes_td1008": {"en": "AES TD1008", "pt-BR": "AES TD1008"},
    "album.playback.spotify": {
        "en": "Spotify, playing the album, turns every track by the same {gain} dB, set by the loudest track ({name}, {loudest} LUFS); alone (shuffle, playlists) each track gets its own gain to {target} LUFS.",
        "pt-BR": "O Spotify, tocando o álbum, aplica o mesmo ganho de {gain} dB a todas as faixas, definido pela faixa mais alta ({name}, {loudest} LUFS); sozinha (aleatório, playlists), cada faixa recebe o próprio ganho até {target} LUFS.",
    },
    "album.playback.aes_td1008": {
        "en": "The loudest track ({name}) plays at {album_target} LUFS and every track gets the same {gain} dB; a track played alone is normalised to {target} LUFS.",
        "pt-BR": "A faixa mais alta ({name}) toca a {album_target} LUFS e todas recebem o mesmo ganho de {gain} dB; uma faixa tocada sozinha é normalizada para {target} LUFS.",
    },
    "album.playback.silent": {
        "en": "No track has a measured loudness (silence): there is no playback gain to show.",
        "pt-BR": "Nenhuma faixa tem loudness medida (silêncio): não há ganho de reprodução para mostrar.",
    },
    # measure names inside the versions' sentences
    "measure.loudness.integrated_lufs": {"en": "loudness", "pt-BR": "loudness"},
    "measure.loudness.range_lu": {"en": "loudness range", "pt-BR": "faixa de loudness"},
    "measure.peaks.true_peak_dbtp": {"en": "true peak", "pt-BR": "true peak"},
    "measure.peaks.clipped_samples": {"en": "clipped samples", "pt-BR": "amostras clipadas"},
    "measure.dynamics.plr_db": {"en": "PLR", "pt-BR": "PLR"},
    "measure.dynamics.crest_db": {"en": "crest factor", "pt-BR": "fator de crista"},
    "measure.dynamics.dr": {"en": "DR", "pt-BR": "DR"},
    "measure.stereo.correlation": {"en": "stereo correlation", "pt-BR": "correlação estéreo"},
    "measure.stereo.width": {"en": "stereo width", "pt-BR": "largura estéreo"},
    "measure.stereo.balance_db": {"en": "left/right balance", "pt-BR": "balanço esquerda/direita"},
    "measure.stereo.mono_loss_lu": {"en": "mono loss", "pt-BR": "perda em mono"},
    "measure.spectrum.tilt_db_per_octave": {"en": "spectral tilt", "pt-BR": "inclinação espectral"},
    # versions of a song (soundy.compare.versions)
    "version.first": {
        "en": "The first version: the ones after it are compared with it.",
        "pt-BR": "A primeira versão: as seguintes são comparadas com ela.",
    },
    "version.score.up": {
        "en": "Score up {amount} points since version {previous} ({before} → {after}).",
        "pt-BR": "A nota subiu {amount} pontos desde a versão {previous} ({before} → {after}).",
    },
    "version.score.down": {
        "en": "Score down {amount} points since version {previous} ({before} → {after}).",
        "pt-BR": "A nota caiu {amount} pontos desde a versão {previous} ({before} → {after}).",
    },
    "version.score.same": {
        "en": "Score unchanged since version {previous} ({after}).",
        "pt-BR": "Nota igual à da versão {previous} ({after}).",
    },
    "version.moved": {
        "en": "What moved: {moves}.",
        "pt-BR": "O que mudou: {moves}.",
    },
    "version.still": {
        "en": "Nothing moved noticeably.",
        "pt-BR": "Nada mudou de forma perceptível.",
    },
    "version.failed": {
        "en": "Not analysed (the error is above).",
        "pt-BR": "Não analisada (o erro está acima).",
    },
    # soundy analyze's tables of the platform playback and the codec check (headers "|"-joined)
    "cli.playback.title": {"en": "Playback", "pt-BR": "Reprodução nas plataformas"},
    "cli.playback.header": {
        "en": "Platform|Gain dB|LUFS|dBTP|Limiter|Evidence",
        "pt-BR": "Plataforma|Ganho dB|LUFS|dBTP|Limiter|Evidência",
    },
    "cli.playback.limiter": {
        "en": "{fraction} % of it, max {max} dB, median {median} dB",
        "pt-BR": "{fraction} % da faixa, máx. {max} dB, mediana {median} dB",
    },
    "cli.mode.normal": {"en": "Normal", "pt-BR": "Normal"},
    "cli.mode.loud": {"en": "Loud", "pt-BR": "Alto"},
    "cli.mode.quiet": {"en": "Quiet", "pt-BR": "Baixo"},
    "cli.mode.sound_check": {"en": "Sound Check", "pt-BR": "Sound Check"},
    "cli.evidence.documented": {"en": "documented", "pt-BR": "documentado"},
    "cli.evidence.measured": {"en": "measured", "pt-BR": "medido"},
    "cli.evidence.folklore": {"en": "folklore", "pt-BR": "folclore"},
    "cli.codec.title": {"en": "Codec check", "pt-BR": "Checagem de codec"},
    "cli.codec.header": {
        "en": "Platform|Codec|dBTP|Peak moved|Clipped|Loudness moved",
        "pt-BR": "Plataforma|Codec|dBTP|Variação dos picos|Clipadas|Variação da loudness",
    },
    "cli.codec.skipped": {
        "en": "Not checked: {platform} ({codec}, {bitrate} kbit/s). Its encoder, {encoder}, is not in PyAV's FFmpeg and no ffmpeg command that carries it was found: install the {package} package (Debian, Ubuntu: apt install {package}).",
        "pt-BR": "Não checado: {platform} ({codec}, {bitrate} kbit/s). O encoder dele, {encoder}, não está no FFmpeg do PyAV e não foi encontrado um comando ffmpeg que o traga: instale o pacote {package} (Debian, Ubuntu: apt install {package}).",
    },
    "cli.codec.skipped.reason": {
        "en": "Not checked: {platform} ({codec}, {bitrate} kbit/s): {reason}.",
        "pt-BR": "Não checado: {platform} ({codec}, {bitrate} kbit/s): {reason}.",
    },
    # soundy analyze --album and --versions: the tables' titles and headers ("|"-joined)
    "cli.album.title": {
        "en": "Album: {tracks} tracks, {minutes} min, {lufs} LUFS, spread {spread} LU, true peak {peak} dBTP",
        "pt-BR": "Álbum: {tracks} faixas, {minutes} min, {lufs} LUFS, da mais alta à mais baixa {spread} LU, true peak {peak} dBTP",
    },
    "cli.album.header": {
        "en": "#|Track|Loudness|LUFS|Δ LU|PLR|Δ dB|Tilt|Δ|Width|Δ|Spotify alone|in album|album−alone",
        "pt-BR": "#|Faixa|Loudness|LUFS|Δ LU|PLR|Δ dB|Inclinação|Δ|Largura|Δ|Spotify sozinha|no álbum|álbum−sozinha",
    },
    "cli.album.delta": {
        "en": "Δ: the track minus the album's median track; ! = an outlier.",
        "pt-BR": "Δ: a faixa menos a faixa mediana do álbum; ! = se destaca.",
    },
    "cli.album.no_outliers": {
        "en": "No track stands out from the album.",
        "pt-BR": "Nenhuma faixa se destaca do álbum.",
    },
    "cli.versions.title": {
        "en": "Versions: {count}, oldest first",
        "pt-BR": "Versões: {count}, da mais antiga à mais nova",
    },
    "cli.versions.header": {"en": "#|File|Score|What moved", "pt-BR": "#|Arquivo|Nota|O que mudou"},
    "cli.versions.matrix": {
        "en": "Every measure (Δ since the previous version; * moved)",
        "pt-BR": "Todas as medidas (Δ desde a versão anterior; * mudou)",
    },
    "cli.versions.measure": {"en": "Measure", "pt-BR": "Medida"},
    # soundy analyze's single-file report: its table (header "|"-joined) and the lines after it
    "cli.report.title": {
        "en": "{name}  ({format}, {rate} Hz, {channels} ch{bits}, {duration})",
        "pt-BR": "{name}  ({format}, {rate} Hz, {channels} can.{bits}, {duration})",
    },
    "cli.report.bits": {"en": ", {bits}-bit", "pt-BR": ", {bits} bits"},
    "cli.report.header": {"en": "Section|Measure|Value|Target", "pt-BR": "Seção|Medida|Valor|Alvo"},
    "cli.report.section.loudness": {"en": "Loudness", "pt-BR": "Loudness"},
    "cli.report.section.peaks": {"en": "Peaks", "pt-BR": "Picos"},
    "cli.report.section.dynamics": {"en": "Dynamics", "pt-BR": "Dinâmica"},
    "cli.report.section.stereo": {"en": "Stereo", "pt-BR": "Estéreo"},
    "cli.report.section.spectrum": {"en": "Spectrum", "pt-BR": "Espectro"},
    "cli.report.section.musical": {"en": "Musical", "pt-BR": "Musical"},
    "cli.report.row.integrated": {"en": "Integrated", "pt-BR": "Integrada"},
    "cli.report.row.range": {"en": "Loudness range", "pt-BR": "Faixa de loudness"},
    "cli.report.row.momentary_max": {"en": "Momentary max", "pt-BR": "Máx. momentânea"},
    "cli.report.row.short_term_max": {"en": "Short-term max", "pt-BR": "Máx. de curto prazo"},
    "cli.report.row.true_peak": {"en": "True peak", "pt-BR": "True peak"},
    "cli.report.row.sample_peak": {"en": "Sample peak", "pt-BR": "Pico de amostra"},
    "cli.report.row.clipped": {"en": "Clipped samples", "pt-BR": "Amostras clipadas"},
    "cli.report.row.plr": {"en": "PLR", "pt-BR": "PLR"},
    "cli.report.row.crest": {"en": "Crest factor", "pt-BR": "Fator de crista"},
    "cli.report.row.dr": {"en": "DR", "pt-BR": "DR"},
    "cli.report.row.psr_max": {"en": "PSR max", "pt-BR": "PSR máx."},
    "cli.report.row.correlation": {"en": "Correlation", "pt-BR": "Correlação"},
    "cli.report.row.width": {"en": "Width", "pt-BR": "Largura"},
    "cli.report.row.balance": {"en": "Balance (L-R)", "pt-BR": "Balanço (E-D)"},
    "cli.report.row.mono_loss": {"en": "Mono loss", "pt-BR": "Perda em mono"},
    "cli.report.row.centroid": {"en": "Centroid", "pt-BR": "Centroide"},
    "cli.report.row.rolloff": {"en": "Rolloff (85 %)", "pt-BR": "Frequência de rolloff (85 %)"},
    "cli.report.row.tilt": {"en": "Tilt", "pt-BR": "Inclinação"},
    "cli.report.row.tempo": {"en": "Tempo", "pt-BR": "Andamento"},
    "cli.report.row.tempo_or": {"en": "Or", "pt-BR": "Ou"},
    "cli.report.row.key": {"en": "Key", "pt-BR": "Tom"},
    "cli.report.row.relative_key": {"en": "Relative key", "pt-BR": "Tom relativo"},
    "cli.report.unit.db_per_octave": {"en": "dB/oct", "pt-BR": "dB/oitava"},
    "cli.report.tempo_sure": {"en": "({confidence} sure)", "pt-BR": "({confidence} de certeza)"},
    "cli.report.relation.half": {"en": "half", "pt-BR": "metade"},
    "cli.report.relation.double": {"en": "double", "pt-BR": "dobro"},
    "cli.report.mode.major": {"en": "major", "pt-BR": "maior"},
    "cli.report.mode.minor": {"en": "minor", "pt-BR": "menor"},
    "cli.report.note.C": {"en": "C", "pt-BR": "Dó"},
    "cli.report.note.D": {"en": "D", "pt-BR": "Ré"},
    "cli.report.note.E": {"en": "E", "pt-BR": "Mi"},
    "cli.report.note.F": {"en": "F", "pt-BR": "Fá"},
    "cli.report.note.G": {"en": "G", "pt-BR": "Sol"},
    "cli.report.note.A": {"en": "A", "pt-BR": "Lá"},
    "cli.report.note.B": {"en": "B", "pt-BR": "Si"},
    "cli.report.band_targets": {
        "en": "The band targets above are turned by {turn} dB per octave to this track's tilt, as the bands are judged: the tilt is judged once, the bands on the shape left.",
        "pt-BR": "Os alvos das bandas acima estão girados em {turn} dB por oitava para a inclinação desta faixa, como as bandas são julgadas: a inclinação é julgada uma vez, as bandas pela forma que sobra.",
    },
    "cli.report.compared": {"en": "Compared with {against}", "pt-BR": "Comparado com {against}"},
    "cli.report.against.genre": {"en": "genre {name}", "pt-BR": "o gênero {name}"},
    "cli.report.against.reference": {"en": "a reference track", "pt-BR": "uma faixa de referência"},
    "cli.report.against.destination": {
        "en": "the destination's targets",
        "pt-BR": "os alvos do destino",
    },
    "cli.report.stage": {"en": "stage: {stage}", "pt-BR": "etapa: {stage}"},
    "cli.report.stage.mix": {"en": "mix", "pt-BR": "mixagem"},
    "cli.report.stage.master": {"en": "master", "pt-BR": "master"},
    "cli.report.destination": {
        "en": "destination: {destination}",
        "pt-BR": "destino: {destination}",
    },
    "cli.report.destination.streaming": {"en": "streaming", "pt-BR": "streaming"},
    "cli.report.destination.club": {"en": "club", "pt-BR": "clube"},
    "cli.report.nearest": {
        "en": "Nearest genres: {genres}",
        "pt-BR": "Gêneros mais próximos: {genres}",
    },
    "cli.report.score": {"en": "Score:", "pt-BR": "Nota:"},
    "cli.report.class.excellent": {"en": "excellent", "pt-BR": "excelente"},
    "cli.report.class.good": {"en": "good", "pt-BR": "bom"},
    "cli.report.class.fair": {"en": "fair", "pt-BR": "regular"},
    "cli.report.class.poor": {"en": "poor", "pt-BR": "fraco"},
    "cli.report.part.loudness": {"en": "loudness", "pt-BR": "loudness"},
    "cli.report.part.peaks": {"en": "peaks", "pt-BR": "picos"},
    "cli.report.part.dynamics": {"en": "dynamics", "pt-BR": "dinâmica"},
    "cli.report.part.stereo": {"en": "stereo", "pt-BR": "estéreo"},
    "cli.report.part.tonal_balance": {"en": "tonal balance", "pt-BR": "equilíbrio tonal"},
    "cli.report.severity.ok": {"en": "ok", "pt-BR": "ok"},
    "cli.report.severity.info": {"en": "info", "pt-BR": "info"},
    "cli.report.severity.warning": {"en": "warning", "pt-BR": "atenção"},
    "cli.report.severity.critical": {"en": "critical", "pt-BR": "crítico"},
    "cli.report.source": {"en": "(target: {source})", "pt-BR": "(alvo: {source})"},
    # soundy share (the command's lines for people; the link itself is on stdout)
    "share.cli.created": {
        "en": "A read-only link to the report of {what}: anyone who has it can open it, without a token. `soundy share revoke {token}` ends it.",
        "pt-BR": "Um link somente leitura para o relatório de {what}: qualquer pessoa com ele pode abri-lo, sem token. `soundy share revoke {token}` o encerra.",
    },
    "share.cli.existing": {
        "en": "The live link to the report of {what}, made {created}: anyone who has it can open it. `soundy share revoke {token}` ends it.",
        "pt-BR": "O link ativo para o relatório de {what}, criado em {created}: qualquer pessoa com ele pode abri-lo. `soundy share revoke {token}` o encerra.",
    },
    "share.cli.no_public_url": {
        "en": "SOUNDY_PUBLIC_URL is not set, so this is only the link's path: put the address people open Soundy at in front of it, or set SOUNDY_PUBLIC_URL.",
        "pt-BR": "SOUNDY_PUBLIC_URL não está definida, então este é só o caminho do link: coloque antes dele o endereço em que as pessoas abrem o Soundy, ou defina SOUNDY_PUBLIC_URL.",
    },
    "share.cli.revoked": {
        "en": "Revoked: the link to the report of {what} no longer opens, for good.",
        "pt-BR": "Revogado: o link para o relatório de {what} não abre mais, para sempre.",
    },
    "share.cli.none": {
        "en": "No live share links (make one with `soundy share create JOB_ID`).",
        "pt-BR": "Nenhum link de compartilhamento ativo (crie um com `soundy share create JOB_ID`).",
    },
    "share.cli.job": {"en": "job {id} ({name})", "pt-BR": "job {id} ({name})"},
    "share.cli.album": {"en": "album {id} ({name})", "pt-BR": "álbum {id} ({name})"},
    "share.cli.untitled": {"en": "untitled", "pt-BR": "sem título"},
    "share.cli.header": {
        "en": "token|report of|created|revoked|link",
        "pt-BR": "token|relatório de|criado|revogado|link",
    },
}


def normalise_lang(lang: str | None) -> str:
    """ "pt", "pt-br", "pt_BR" -> "pt-BR"; anything else -> "en"."""
    if lang and lang.replace("_", "-").lower().startswith("pt"):
        return "pt-BR"
    return "en"


def number(value: float, lang: str, digits: int = 1) -> str:
    """``value`` with ``digits`` decimals, decimal comma in pt-BR, never "-0.0"."""
    lang = normalise_lang(lang)
    out = f"{value:.{digits}f}"
    if out.startswith("-") and float(out) == 0.0:
        out = out[1:]
    return out.replace(".", ",") if lang == "pt-BR" else out


def placeholders(template: str) -> set[str]:
    """The named placeholders of a template."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def text(key: str, lang: str) -> str:
    """The raw text of ``key`` in ``lang``."""
    return CATALOGUE[key][normalise_lang(lang)]


def render(key: str, lang: str, **values: Any) -> str:
    """Format entry ``key``; floats get ``digits`` decimals (default 1) in the language's style."""
    lang = normalise_lang(lang)
    digits = values.pop("digits", 1)
    formatted = {
        name: number(value, lang, digits) if isinstance(value, float) else value
        for name, value in values.items()
    }
    return CATALOGUE[key][lang].format(**formatted)
