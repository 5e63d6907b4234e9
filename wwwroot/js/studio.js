// Client helpers for the rating page: both clips played from one clock, answer keys, downloads.
window.studio = (() => {
    let keyHandler = null;
    let player = null;

    // Plays a pair of clips as one: the longer clip is the clock; the other follows it to within half a frame and,
    // when it is shorter, holds its last frame (marked "ended") until the longer one ends. Then both start again
    // together. Pause, replay and slow motion act on both. `owner` hears PlayedOnce(key) when both have played through,
    // and ClipFailed(key) when one cannot be played; `key` names the pair, so a late call about an earlier pair is ignored.
    function attachPlayer(left, right, frameRate, owner, key) {
        detachPlayer();
        if (!left || !right) return;
        const videos = [left, right];
        // Re-seeking the follower costs a moment of its own, so it is corrected only when more than 0.6 of a frame
        // off (and not while a correction is still under way): within a frame, without seeking on every frame.
        const tolerance = 0.6 / (frameRate || 10);
        const state = { playing: true, rate: 1, loops: 0, stopped: false, notified: false, holding: false, frame: 0 };
        const figure = v => v.closest('figure');
        const durationOf = v => (isFinite(v.duration) && v.duration > 0 ? v.duration : 0);
        const leader = () => (durationOf(right) > durationOf(left) ? right : left);
        const follower = () => (leader() === left ? right : left);

        const restart = () => {
            videos.forEach(v => {
                v.currentTime = 0;
                figure(v)?.classList.remove('clip-ended');
                v.playbackRate = state.rate;
                if (state.playing) { const p = v.play(); if (p) p.catch(() => { }); }
            });
        };

        // Which clip is longer can only be told once both durations are known (and a browser may refine an
        // estimate while playing), so the leader is asked for on every frame and the end of a loop is seen here
        // rather than from one element's 'ended' event.
        const tick = () => {
            if (state.stopped) return;
            const lead = leader(), follow = follower();
            const t = lead.currentTime;
            const leadEnd = durationOf(lead);
            if (!state.holding && state.playing) {
                if (lead.ended || (leadEnd > 0 && t >= leadEnd - 0.001)) loopEnded();
                else {
                    // A play() that a seek interrupted leaves a clip paused: the clock must not stop with it.
                    if (lead.paused && !lead.seeking) { const p = lead.play(); if (p) p.catch(() => { }); }
                    const end = durationOf(follow);
                    if (end > 0 && t >= end - tolerance) {
                        // The shorter clip is over: hold its last frame, visibly, until the longer one ends.
                        if (!follow.paused) follow.pause();
                        if (Math.abs(follow.currentTime - end) > tolerance) follow.currentTime = end;
                        figure(follow)?.classList.add('clip-ended');
                    } else {
                        figure(follow)?.classList.remove('clip-ended');
                        if (follow.paused && !lead.paused) { const p = follow.play(); if (p) p.catch(() => { }); }
                        if (!follow.seeking && Math.abs(follow.currentTime - t) > tolerance) follow.currentTime = t;
                    }
                }
            }
            state.frame = requestAnimationFrame(tick);
        };

        // Both clips are at their ends: tell the page once, hold the last frames a moment, then start both again.
        const loopEnded = () => {
            state.holding = true;
            state.loops += 1;
            if (!state.notified && owner) {
                state.notified = true;
                owner.invokeMethodAsync('PlayedOnce', key || '').catch(() => { });
            }
            videos.forEach(v => { if (!v.paused) v.pause(); figure(v)?.classList.add('clip-ended'); });
            setTimeout(() => {
                state.holding = false;
                if (!state.stopped && state.playing) restart();
            }, 400);
        };

        let ready = 0;
        const start = () => {
            if (state.stopped) return;
            videos.forEach(v => { v.muted = true; v.loop = false; });
            restart();
            state.frame = requestAnimationFrame(tick);
        };
        videos.forEach(v => {
            // A clip that cannot be played must not leave the answers waiting for it for ever.
            v.addEventListener('error', () => {
                if (!state.stopped && owner) owner.invokeMethodAsync('ClipFailed', key || '').catch(() => { });
            }, { once: true });
            if (v.readyState >= 3) ready += 1;
            else v.addEventListener('canplay', () => { ready += 1; if (ready === videos.length) start(); }, { once: true });
        });
        if (ready === videos.length) start();

        player = {
            stop() {
                state.stopped = true;
                cancelAnimationFrame(state.frame);
            },
            toggle() {
                state.playing = !state.playing;
                const lead = leader();
                if (state.playing && (lead.ended || (durationOf(lead) > 0 && lead.currentTime >= durationOf(lead) - 0.001))) restart();
                else videos.forEach(v => { if (state.playing) { if (!figure(v)?.classList.contains('clip-ended')) v.play().catch(() => { }); } else v.pause(); });
                return state.playing;
            },
            replay() { state.playing = true; restart(); return true; },
            slow() {
                state.rate = state.rate === 1 ? 0.25 : 1;
                videos.forEach(v => { v.playbackRate = state.rate; });
                return state.rate !== 1;
            },
            loops: () => state.loops,
        };
    }

    function detachPlayer() {
        if (player) player.stop();
        player = null;
    }

    const togglePlayback = () => (player ? player.toggle() : false);
    const replay = () => (player ? player.replay() : false);
    const toggleSlow = () => (player ? player.slow() : false);

    // Answer keys (arrows), help (?), player (space, r, s) and undo (u); not while typing in a field.
    const keys = { ArrowLeft: 'left', ArrowRight: 'right', ArrowUp: 'equal', ArrowDown: 'incomparable', '?': 'help', ' ': 'pause', r: 'replay', s: 'slow', u: 'undo' };

    function registerKeys(dotnetRef) {
        unregisterKeys();
        keyHandler = e => {
            const action = keys[e.key];
            if (!action || e.altKey || e.ctrlKey || e.metaKey) return;
            const tag = (e.target && e.target.tagName) || '';
            if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') return;
            // Space on a focused button presses the button; only elsewhere does it pause.
            if (action === 'pause' && tag === 'BUTTON') return;
            e.preventDefault();
            dotnetRef.invokeMethodAsync('OnKey', action);
        };
        document.addEventListener('keydown', keyHandler);
    }

    function unregisterKeys() {
        if (keyHandler) document.removeEventListener('keydown', keyHandler);
        keyHandler = null;
    }

    // Saves text as a file (invite links as CSV): a blob URL, so nothing leaves the page.
    function download(fileName, type, text) {
        const url = URL.createObjectURL(new Blob([text], { type }));
        const a = document.createElement('a');
        a.href = url;
        a.download = fileName;
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 1000);
    }

    // The Clipboard API needs a secure context (https or localhost); a studio reached over plain http on a lab
    // network falls back to the older selection-based copy.
    async function copy(text) {
        try { await navigator.clipboard.writeText(text); return true; } catch { }
        const area = document.createElement('textarea');
        area.value = text;
        area.setAttribute('readonly', '');
        area.style.position = 'fixed';
        area.style.opacity = '0';
        document.body.appendChild(area);
        area.select();
        let ok = false;
        try { ok = document.execCommand('copy'); } catch { ok = false; }
        area.remove();
        return ok;
    }

    // After the completion code is shown, a moment to read it, then on to the platform.
    function redirectSoon(url, seconds) {
        setTimeout(() => { window.location.assign(url); }, (seconds || 3) * 1000);
    }

    return { attachPlayer, detachPlayer, togglePlayback, replay, toggleSlow, registerKeys, unregisterKeys, download, copy, redirectSoon };
})();
