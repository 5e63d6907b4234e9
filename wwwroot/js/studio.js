// Client helpers for the rating page: synchronised clip playback and answer keys.
window.studio = (() => {
    let keyHandler = null;

    // Both clips start together and restart together, so the rater always compares the same moments.
    function playTogether(left, right) {
        if (!left || !right) return;
        const videos = [left, right];
        let ended = 0;
        const restart = () => {
            ended = 0;
            videos.forEach(v => { v.currentTime = 0; });
            videos.forEach(v => { const p = v.play(); if (p) p.catch(() => { }); });
        };
        videos.forEach(v => {
            v.muted = true;
            v.onended = () => { ended += 1; if (ended >= videos.length) restart(); };
        });
        let ready = 0;
        const onReady = () => { ready += 1; if (ready === videos.length) restart(); };
        videos.forEach(v => {
            if (v.readyState >= 3) onReady();
            else v.addEventListener('canplay', onReady, { once: true });
        });
    }

    const keys = { ArrowLeft: 'left', ArrowRight: 'right', ArrowUp: 'equal', ArrowDown: 'incomparable' };

    function registerKeys(dotnetRef) {
        unregisterKeys();
        keyHandler = e => {
            const choice = keys[e.key];
            if (!choice || e.altKey || e.ctrlKey || e.metaKey) return;
            const tag = (e.target && e.target.tagName) || '';
            if (tag === 'INPUT' || tag === 'TEXTAREA') return;
            e.preventDefault();
            dotnetRef.invokeMethodAsync('AnswerFromKey', choice);
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

    return { playTogether, registerKeys, unregisterKeys, download };
})();
